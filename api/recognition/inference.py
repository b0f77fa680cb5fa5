"""What runs on the inference thread: the model call over a request's (or a micro-batch's) photos."""

from __future__ import annotations

from typing import Any

from api.recognition.images import DecodedImage
from api.recognition.schemas import RecognitionParams
from api.registry.models.schemas import ModelRead

PREDICT_CHUNK = 8  # photos per model call: bounds inference memory, costs no throughput on CPU


def predict_images(loaded: Any, images: list[DecodedImage], *, model: ModelRead, params: RecognitionParams) -> list[Any]:
    """On the inference thread: one result per photo, in chunks (a batch's activations grow with it: ~1 GB at 32)."""
    class_ids = [model.classes.index(name) for name in params.classes] if params.classes else None
    results: list[Any] = []
    for first in range(0, len(images), PREDICT_CHUNK):
        chunk = [img.image for img in images[first:first + PREDICT_CHUNK]]
        results += loaded.predict(chunk, conf=params.conf, iou=params.iou, classes=class_ids, verbose=False)
    return results


def batch_key(loaded: Any, params: RecognitionParams, images: list[DecodedImage]) -> tuple[Any, ...] | None:
    """What may share a model call: the same loaded model (id and runtime), parameters and photo size."""
    sizes = {image.image.size for image in images}
    if len(sizes) != 1:
        return None
    return (id(loaded), params.conf, params.iou, tuple(params.classes or ()), sizes.pop())
