"""The ONNX model call runs with torch at one thread (its OpenMP workers would spin on ONNX Runtime's cores);
torch models keep every thread, and the count comes back whatever the call does."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from PIL import Image

from api.recognition.images import DecodedImage
from api.recognition.inference import predict_images
from api.recognition.schemas import RecognitionParams
from api.registry.models.schemas import ModelRead

MODEL = ModelRead(id=1, name="m", task="detect", architecture="yolov8n", classes=["circle"], metrics={},
                  source="upload", session_id=None, size_bytes=1, sha256="0" * 64, created_at=0.0, created_by=None)


class Recording:
    """Stands in for a loaded Ultralytics model: records torch's thread count at each call."""

    def __init__(self, fail: bool = False) -> None:
        self.seen: list[int] = []
        self.fail = fail

    def predict(self, images: list[Any], **_: Any) -> list[Any]:
        self.seen.append(torch.get_num_threads())
        if self.fail:
            raise RuntimeError("model call failed")
        return [None] * len(images)


def photos(count: int) -> list[DecodedImage]:
    return [DecodedImage(Image.new("RGB", (32, 32)), "jpg", (32, 32)) for _ in range(count)]


@pytest.fixture
def two_threads() -> Any:
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_onnx_calls_run_with_one_torch_thread_and_the_count_comes_back(two_threads: None) -> None:
    loaded = Recording()
    results = predict_images(loaded, photos(10), model=MODEL, params=RecognitionParams(conf=0.5, iou=0.7, runtime="onnx"))
    assert len(results) == 10
    assert loaded.seen == [1, 1]  # two chunks of at most 8 photos
    assert torch.get_num_threads() == 2


def test_torch_calls_keep_every_thread(two_threads: None) -> None:
    loaded = Recording()
    predict_images(loaded, photos(1), model=MODEL, params=RecognitionParams(conf=0.5, iou=0.7, runtime="torch"))
    assert loaded.seen == [2]


def test_a_failed_onnx_call_still_gives_the_threads_back(two_threads: None) -> None:
    with pytest.raises(RuntimeError):
        predict_images(Recording(fail=True), photos(1), model=MODEL,
                       params=RecognitionParams(conf=0.5, iou=0.7, runtime="onnx"))
    assert torch.get_num_threads() == 2
