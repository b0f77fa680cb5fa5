from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from api.recognition.kit_check import check

names = st.sampled_from(["wrench", "pliers", "screwdriver", "hammer"])
counts = st.dictionaries(names, st.integers(min_value=1, max_value=20), max_size=4)


def test_kit_reports_missing_and_extra_by_name() -> None:
    verdict = check({"wrench": 1, "hammer": 2}, expected_count=None, kit={"wrench": 2, "pliers": 1, "hammer": 1})
    assert verdict.verdict == "incomplete" and verdict.found == 3 and verdict.expected == 4
    assert verdict.missing == {"wrench": 1, "pliers": 1} and verdict.extra == {"hammer": 1}


def test_expected_total() -> None:
    assert check({"a": 11}, expected_count=11, kit=None).verdict == "complete"
    short = check({"a": 9}, expected_count=11, kit=None)
    assert short.verdict == "incomplete" and short.missing == {"total": 2} and short.extra == {}
    assert check({}, expected_count=None, kit=None).verdict == "unchecked"


@given(found=counts, kit=counts)
def test_kit_arithmetic_balances(found: dict[str, int], kit: dict[str, int]) -> None:
    verdict = check(found, expected_count=None, kit=kit)
    for name in set(found) | set(kit):
        assert found.get(name, 0) + verdict.missing.get(name, 0) - verdict.extra.get(name, 0) == kit.get(name, 0)
    assert (verdict.verdict == "complete") == (found == {k: v for k, v in kit.items() if v})
