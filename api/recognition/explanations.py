"""Explanations of recognitions: an EigenCAM heatmap per image (or per detection), computed on first request with
the cached model on the one inference thread, drawn in the render pool, and kept next to the annotated image (so
it goes with the recognition and with the retention of its photos)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np

from api.core.errors import Conflict, NotFound, ValidationFailed
from api.core.pools import Pool
from api.recognition import explain
from api.recognition.files import RecognitionFiles
from api.recognition.images import DecodedImage, decode
from api.recognition.model_cache import ModelCache
from api.recognition.runtimes import weights_for
from api.recognition.schemas import ImageResult, RecognitionRead
from api.registry.models.schemas import ModelRead
from api.registry.models.service import ModelRegistry

EXPLAIN_SIDE = 1280  # the explanation's longest side at most: a heatmap from 20x20..80x80 maps needs no more
DEFAULT_INPUT = {"detect": 640, "classify": 224}  # Ultralytics' defaults when a checkpoint does not say


def _removed(recognition_id: int) -> NotFound:
    return NotFound(f"The photos of recognition {recognition_id} were removed by the retention setting; "
                    "an explanation needs them.", code="image_removed")


def _image_result(recognition: RecognitionRead, index: int, detection: int | None) -> ImageResult:
    """The stored result of image `index`, after the checks that need no model: the image, its photo, `detection`."""
    if recognition.status != "completed":  # an async batch: no results to explain before it ends
        raise Conflict(f"Recognition {recognition.id} is {recognition.status}; its images are explained once it has "
                       "completed.", code="recognition_not_completed", details={"status": recognition.status})
    if not 0 <= index < len(recognition.images):
        raise NotFound(f"Recognition {recognition.id} has {len(recognition.images)} image(s).", code="image_not_found")
    if recognition.images_removed_at is not None:
        raise _removed(recognition.id)
    result = recognition.images[index]
    if detection is not None and result.top5 is not None:
        raise ValidationFailed.for_field("query.detection", "a classification model has no detections to focus on")
    if detection is not None and not 0 <= detection < len(result.detections):
        raise NotFound(f"Image {index} of recognition {recognition.id} has {len(result.detections)} detection(s).",
                       code="detection_not_found", details={"detections": len(result.detections)})
    return result


def input_side(loaded: Any, task: str) -> int:
    """The model's input size (its training imgsz), as predict would letterbox to."""
    imgsz = getattr(loaded, "overrides", {}).get("imgsz")
    if isinstance(imgsz, (list, tuple)):
        imgsz = max(imgsz)
    return int(imgsz) if isinstance(imgsz, (int, float)) and imgsz > 0 else DEFAULT_INPUT.get(task, 640)


def _stride(network: Any) -> int:
    strides = getattr(network, "stride", None)
    return max(32, int(strides.max())) if strides is not None and hasattr(strides, "max") else 32


class Explanations:
    def __init__(self, files: RecognitionFiles, models: ModelRegistry, cache: ModelCache, inference: Executor,
                 render: Pool, observe: Callable[[str, float], None]) -> None:
        self._files, self._models, self._cache = files, models, cache
        self._inference, self._render, self._observe = inference, render, observe

    def path(self, recognition_id: int, index: int, detection: int | None) -> Path:
        name = f"{index}.explain.jpg" if detection is None else f"{index}.explain.{detection}.jpg"
        return self._files.folder(recognition_id) / name

    async def file(self, recognition: RecognitionRead, index: int, *, detection: int | None) -> Path:
        """The explanation JPEG of image `index` (whole image, or focused on one detection), kept once drawn."""
        result = _image_result(recognition, index, detection)
        target = self.path(recognition.id, index, detection)
        if target.exists():  # drawn before: it stays valid even if the model has gone since
            return target
        model = await self._model(recognition)
        started = time.perf_counter()
        photo = await self._render.run(self._decode, recognition.id, index)
        served, weights = weights_for(self._models, model.id, "torch")  # ONNX-served models too: same weights
        loaded = await self._cache.get((model.id, served), weights, model.task)
        network = explain.torch_network(loaded)
        if network is None:
            raise Conflict(f"Model {model.id} has no PyTorch network to explain.", code="explain_unsupported")
        cam = await asyncio.get_running_loop().run_in_executor(  # never beside an inference: one thread runs torch
            self._inference, explain.heatmap, network, photo.image, input_side(loaded, model.task), _stride(network))
        detections = explain.in_image_pixels([d.model_dump() for d in result.detections], photo.scale)
        await self._render.run(self._draw, target, recognition.id, photo, cam, detections, detection)
        self._observe("explain", time.perf_counter() - started)
        return target

    async def _model(self, recognition: RecognitionRead) -> ModelRead:
        gone = Conflict(f"The model of recognition {recognition.id} was deleted; it cannot be explained any more.",
                        code="model_deleted", details={"model_id": recognition.model_id})
        if recognition.model_id is None:
            raise gone
        try:
            return await self._models.usable(recognition.model_id)
        except NotFound:
            raise gone from None

    def _decode(self, recognition_id: int, index: int) -> DecodedImage:
        try:
            source = self._files.original(recognition_id, index)
            return decode(source.read_bytes(), index, max_side=EXPLAIN_SIDE)
        except (NotFound, FileNotFoundError):  # removed by the retention or a delete meanwhile
            raise _removed(recognition_id) from None

    @staticmethod
    def _draw(target: Path, recognition_id: int, photo: DecodedImage, cam: np.ndarray,
              detections: list[dict[str, Any]], detection: int | None) -> None:
        jpeg = explain.overlay(photo.image, cam, detections, detection)
        partial = target.with_suffix(f".{threading.get_ident()}.part")
        try:
            partial.write_bytes(jpeg)
        except FileNotFoundError:  # the folder went (retention, delete) while the heatmap was computed
            raise _removed(recognition_id) from None
        os.replace(partial, target)  # atomic: a concurrent reader sees the whole file or none
