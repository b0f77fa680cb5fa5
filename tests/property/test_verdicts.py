"""The verdict of one image against an expected total or a kit (api/recognition/kit_check.py), and how the
recognizer counts detections into it (a real Ultralytics `Results`, no model run).

A kit is complete only when every class matches exactly: too few is `missing`, too many is `extra`."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from ultralytics.engine.results import Results

from api.core.errors import ValidationFailed
from api.recognition.images import DecodedImage
from api.recognition.kit_check import check
from api.recognition.schemas import RecognitionParams
from api.recognition.service import Recognizer, check_params
from api.registry.models.schemas import ModelRead

CLASSES = ["wrench", "pliers", "hammer", "screwdriver", "ключ"]
names = st.sampled_from(CLASSES)
counts = st.dictionaries(names, st.integers(1, 30), max_size=5)  # what detections count: a class seen is >= 1
kits = st.dictionaries(names, st.integers(0, 30), min_size=1, max_size=5)  # what parse_kit accepts: 0.. per class


def balance(verdict_missing: dict[str, int], verdict_extra: dict[str, int]) -> int:
    return sum(verdict_extra.values()) - sum(verdict_missing.values())


@given(found=counts, kit=kits)
def test_kit_is_complete_iff_every_class_matches_exactly(found: dict[str, int], kit: dict[str, int]) -> None:
    verdict = check(found, expected_count=None, kit=kit)
    exact = all(found.get(name, 0) == kit.get(name, 0) for name in set(found) | set(kit))
    assert (verdict.verdict == "complete") == exact
    assert verdict.verdict in ("complete", "incomplete")


@given(found=counts, kit=kits)
def test_kit_missing_and_extra_are_the_per_class_differences(found: dict[str, int], kit: dict[str, int]) -> None:
    verdict = check(found, expected_count=None, kit=kit)
    assert verdict.found == sum(found.values()) and verdict.expected == sum(kit.values())
    assert not set(verdict.missing) & set(verdict.extra)
    assert all(value > 0 for value in [*verdict.missing.values(), *verdict.extra.values()])
    for name in set(found) | set(kit):
        difference = found.get(name, 0) - kit.get(name, 0)
        assert verdict.missing.get(name, 0) == max(-difference, 0)
        assert verdict.extra.get(name, 0) == max(difference, 0)
    assert balance(verdict.missing, verdict.extra) == verdict.found - verdict.expected


@given(found=counts, kit=kits, name=names)
def test_one_more_detection_moves_the_balance_by_exactly_one(found: dict[str, int], kit: dict[str, int],
                                                            name: str) -> None:
    before = check(found, expected_count=None, kit=kit)
    after = check({**found, name: found.get(name, 0) + 1}, expected_count=None, kit=kit)
    assert balance(after.missing, after.extra) == balance(before.missing, before.extra) + 1
    assert all(after.missing.get(n, 0) <= m for n, m in before.missing.items())  # missing never grows
    assert all(after.extra.get(n, 0) >= e for n, e in before.extra.items())  # extra never shrinks
    if before.verdict == "complete":
        assert after.verdict == "incomplete" and after.extra == {name: 1} and after.missing == {}


@given(found=counts, expected=st.integers(0, 200))
def test_expected_total_compares_the_sum_of_all_classes(found: dict[str, int], expected: int) -> None:
    verdict = check(found, expected_count=expected, kit=None)
    total = sum(found.values())
    assert (verdict.found, verdict.expected) == (total, expected)
    assert (verdict.verdict == "complete") == (total == expected)
    assert verdict.missing == ({"total": expected - total} if total < expected else {})
    assert verdict.extra == ({"total": total - expected} if total > expected else {})


@given(found=counts)
def test_without_kit_or_count_nothing_is_checked(found: dict[str, int]) -> None:
    verdict = check(found, expected_count=None, kit=None)
    assert (verdict.verdict, verdict.found, verdict.expected) == ("unchecked", sum(found.values()), None)
    assert verdict.missing == {} and verdict.extra == {}


MODEL = ModelRead(id=1, name="m", task="detect", architecture="yolov8n", classes=CLASSES, metrics={},
                  source="upload", session_id=None, size_bytes=0, sha256="", created_at=0.0, created_by=None)
IMAGE = DecodedImage(image=Image.new("RGB", (64, 48)), extension="jpg", size=(64, 48))
boxes = st.lists(st.tuples(st.integers(0, len(CLASSES) - 1), st.floats(0.05, 1.0), st.integers(0, 30),
                           st.integers(0, 20)), max_size=12)


def image_result(detections: list[tuple[int, float, int, int]], params: RecognitionParams) -> dict:
    """What the recognizer makes of these boxes (class, confidence, x1, y1), as Ultralytics would return them."""
    rows = [[x, y, x + 20, y + 20, conf, cls] for cls, conf, x, y in detections]
    result = Results(np.zeros((48, 64, 3), np.uint8), path="photo.jpg", names=dict(enumerate(CLASSES)),
                     boxes=torch.tensor(rows, dtype=torch.float32).reshape(-1, 6))
    return Recognizer._image_result(result, IMAGE, MODEL, params)


@settings(max_examples=40, deadline=None)
@given(detections=boxes, kit=kits, data=st.data())
def test_verdict_does_not_depend_on_the_order_of_detections(detections: list[tuple[int, float, int, int]],
                                                           kit: dict[str, int], data: st.DataObject) -> None:
    params = RecognitionParams(conf=0.25, iou=0.7, kit=kit)
    first = image_result(detections, params)
    again = image_result(data.draw(st.permutations(detections)), params)
    assert first["counts"] == dict(Counter(CLASSES[cls] for cls, *_ in detections))
    assert first["found"] == len(detections)
    for field in ("counts", "verdict", "found", "expected", "missing", "extra"):
        assert again[field] == first[field], field


@given(kit=kits, unknown=st.text(min_size=1, max_size=12).filter(lambda name: name not in CLASSES))
def test_a_kit_may_name_only_the_model_s_classes(kit: dict[str, int], unknown: str) -> None:
    check_params(MODEL, RecognitionParams(conf=0.25, iou=0.7, kit=kit))
    with pytest.raises(ValidationFailed) as refused:
        check_params(MODEL, RecognitionParams(conf=0.25, iou=0.7, kit={**kit, unknown: 1}))
    assert [field["field"] for field in refused.value.details["fields"]] == ["body.kit"]
