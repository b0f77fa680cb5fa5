"""The verdict of one image: found vs an expected total, or counts per class vs a kit."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class KitVerdict:
    verdict: str
    found: int
    expected: int | None
    missing: dict[str, int] = field(default_factory=dict)
    extra: dict[str, int] = field(default_factory=dict)


def check(counts: dict[str, int], *, expected_count: int | None, kit: dict[str, int] | None) -> KitVerdict:
    found = sum(counts.values())
    if kit is not None:
        missing = {name: need - counts.get(name, 0) for name, need in kit.items() if counts.get(name, 0) < need}
        extra = {name: have - kit.get(name, 0) for name, have in counts.items() if have > kit.get(name, 0)}
        verdict = "complete" if not missing and not extra else "incomplete"
        return KitVerdict(verdict, found, sum(kit.values()), missing, extra)
    if expected_count is not None:
        missing = {"total": expected_count - found} if found < expected_count else {}
        extra = {"total": found - expected_count} if found > expected_count else {}
        return KitVerdict("complete" if found == expected_count else "incomplete", found, expected_count,
                          missing, extra)
    return KitVerdict("unchecked", found, None)


def overall(verdicts: list[str]) -> str:
    """The verdict of a recognition: complete only if every image is; unchecked if none was checked."""
    found = set(verdicts)
    return "unchecked" if found == {"unchecked"} else "complete" if found == {"complete"} else "incomplete"
