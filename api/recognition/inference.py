"""What runs on the inference thread: the model call over a request's (or a micro-batch's) photos."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

from api.recognition.images import DecodedImage
from api.recognition.schemas import RecognitionParams
from api.registry.models.schemas import ModelRead

PREDICT_CHUNK = 8  # photos per model call: bounds inference memory, costs no throughput on CPU


def predict_images(loaded: Any, images: list[DecodedImage], *, model: ModelRead, params: RecognitionParams) -> list[Any]:
    """On the inference thread: one result per photo, in chunks (a batch's activations grow with it: ~1 GB at 32)."""
    class_ids = [model.classes.index(name) for name in params.classes] if params.classes else None
    results: list[Any] = []
    with torch_threads(1) if params.runtime == "onnx" else nullcontext():
        for first in range(0, len(images), PREDICT_CHUNK):
            chunk = [img.image for img in images[first:first + PREDICT_CHUNK]]
            results += loaded.predict(chunk, conf=params.conf, iou=params.iou, classes=class_ids, verbose=False)
    return results


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Torch at `count` threads for the block. Ultralytics wraps an ONNX model call in torch pre- and
    post-processing, after which torch's OpenMP workers spin-wait on the cores ONNX Runtime's own (spinning)
    threads need: one torch thread there took a 640 px image from 72 to 61 ms (ONNX Runtime alone: 58 ms)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def batch_key(loaded: Any, params: RecognitionParams, images: list[DecodedImage]) -> tuple[Any, ...] | None:
    """What may share a model call: the same loaded model (id and runtime), parameters and photo size."""
    sizes = {image.image.size for image in images}
    if len(sizes) != 1:
        return None
    return (id(loaded), params.conf, params.iou, tuple(params.classes or ()), sizes.pop())
