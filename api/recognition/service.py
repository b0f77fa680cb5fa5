"""Recognitions: parallel decode, one batched predict per request on a bounded inference queue, verdicts,
and a stored, filterable history (annotated images are drawn when first asked for)."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from api.auth.schemas import ApiKeyRead
from api.auth.service import require_owner
from api.core.errors import NotFound, ValidationFailed
from api.core.events import EventBus
from api.core.memory import release_free_memory
from api.core.pools import Pools
from api.recognition import kit_check
from api.recognition.files import RecognitionFiles
from api.recognition.images import DecodedImage, decode, work_side
from api.recognition.model_cache import ModelCache, load_and_warm
from api.recognition.schemas import RecognitionParams, RecognitionRead
from api.recognition.store import RecognitionStore
from api.registry.models.schemas import ModelRead
from api.registry.models.service import ModelRegistry

logger = logging.getLogger(__name__)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def check_params(model: ModelRead, params: RecognitionParams) -> None:
    if params.kit is not None and params.expected_count is not None:
        raise ValidationFailed.for_field("body.kit", "give either kit or expected_count, not both")
    if model.task == "classify" and (params.kit is not None or params.expected_count is not None):
        raise ValidationFailed.for_field("body.kit" if params.kit is not None else "body.expected_count",
                      "a classification model cannot check a kit or count objects")
    for field, names in (("body.kit", list(params.kit or {})), ("body.classes", params.classes or [])):
        unknown = sorted(set(names) - set(model.classes))
        if unknown:
            raise ValidationFailed.for_field(field, f"classes not known to model {model.id}: {', '.join(unknown)}")


def _detections(result: Any, names: dict[int, str], image: DecodedImage) -> list[dict[str, Any]]:
    """Boxes in the photo's pixels (scaled back when it was decoded smaller) and normalised."""
    boxes = result.boxes
    width, height = image.size
    sx, sy = image.scale
    found = []
    for xyxy, conf, cls in zip(boxes.xyxy.tolist(), boxes.conf.tolist(), boxes.cls.tolist(), strict=True):
        box = [round(xyxy[0] * sx, 1), round(xyxy[1] * sy, 1), round(xyxy[2] * sx, 1), round(xyxy[3] * sy, 1)]
        found.append({"class_id": int(cls), "name": names[int(cls)], "confidence": round(conf, 4), "box": box,
                      "box_normalized": [round(box[0] / width, 5), round(box[1] / height, 5),
                                         round(box[2] / width, 5), round(box[3] / height, 5)]})
    return found


PREDICT_CHUNK = 8  # photos per model call: bounds inference memory, costs no throughput on CPU


class Recognizer:
    def __init__(self, *, store: RecognitionStore, bus: EventBus, models: ModelRegistry, root: Path, cache_size: int,
                 pools: Pools, threads: int = 0, telemetry_observe: Any = None) -> None:
        self._store, self._bus, self._models, self._files_pool = store, bus, models, pools.files
        self.files = RecognitionFiles(root)
        # One inference thread: requests queue for it instead of piling threads onto the cores; torch inside it
        # uses `threads` cores (Ultralytics would leave one idle). Decoding a batch is spread over the cores.
        self._inference = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")
        self._decoders = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="decode")
        # Decoded photos stay in memory until their request is stored: two requests' worth at a time, at most
        # 2 x REQUEST_PIXELS; the others wait their turn.
        self._decoding = asyncio.Semaphore(2)
        loader = functools.partial(load_and_warm, threads=threads or os.cpu_count() or 1)
        self.cache = ModelCache(cache_size, self._inference, loader)
        self._observe = telemetry_observe or (lambda stage, seconds: None)
        models.on_delete.append(self.cache.evict)

    def close(self) -> None:
        self._inference.shutdown(wait=False, cancel_futures=True)
        self._decoders.shutdown(wait=False, cancel_futures=True)

    async def _decode_all(self, uploads: list[bytes], model_side: int | None) -> list[DecodedImage]:
        loop = asyncio.get_running_loop()
        side = work_side(len(uploads))
        jobs = [loop.run_in_executor(self._decoders, decode, data, index, model_side, side)
                for index, data in enumerate(uploads)]
        results = await asyncio.gather(*jobs, return_exceptions=True)
        for result in results:  # the first bad image (by index) is the one reported
            if isinstance(result, BaseException):
                raise result
        return results  # type: ignore[return-value]

    async def recognize(self, uploads: list[bytes], *, model_id: int, params: RecognitionParams,
                        key_id: int | None, on_behalf_of: str | None) -> RecognitionRead:
        model = await self._models.usable(model_id)
        check_params(model, params)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        loaded = await self.cache.get(model.id, self._models.path_of(model.id), model.task)
        # Classification resizes the short side: only detection letterboxes by the long side that drafting keeps.
        async with self._decoding:
            try:
                images = await self._decode_all(uploads, _input_side(loaded) if model.task == "detect" else None)
                timings["decode"] = time.perf_counter() - started
                return await self._recognize_decoded(uploads, images, loaded, model, params, timings, started,
                                                     key_id, on_behalf_of)
            finally:
                images = []  # the photos go before the heap is trimmed
                await self._files_pool.run(release_free_memory)

    async def _recognize_decoded(self, uploads: list[bytes], images: list[DecodedImage], loaded: Any, model: ModelRead,
                                 params: RecognitionParams, timings: dict[str, float], started: float,
                                 key_id: int | None, on_behalf_of: str | None) -> RecognitionRead:
        # The originals go to disk while the model runs: the write costs no wall time.
        staging = self.files.staging_folder()
        writing = asyncio.create_task(self._files_pool.run(self.files.write_originals, staging, images, uploads))
        try:
            queued_at = time.perf_counter()
            results, inference_s, wait_s = await asyncio.get_running_loop().run_in_executor(
                self._inference, self._predict, loaded, images, params, model, queued_at)
            timings["queue_wait"], timings["inference"] = wait_s, inference_s
            post_started = time.perf_counter()
            per_image = [self._image_result(result, image, model, params) for result, image in zip(results, images,
                                                                                                  strict=True)]
            timings["postprocess"] = time.perf_counter() - post_started
            store_started = time.perf_counter()
            await writing
        except BaseException:
            await asyncio.gather(writing, return_exceptions=True)
            await self._files_pool.run(shutil.rmtree, staging, True)
            raise
        timings["store"] = time.perf_counter() - store_started  # what the write added after inference
        return await self._save(staging, per_image, model, params, timings, started, key_id, on_behalf_of)

    @staticmethod
    def _predict(loaded: Any, images: list[DecodedImage], params: RecognitionParams, model: ModelRead,
                 queued_at: float) -> tuple[list[Any], float, float]:
        started = time.perf_counter()
        class_ids = [model.classes.index(name) for name in params.classes] if params.classes else None
        results: list[Any] = []
        for first in range(0, len(images), PREDICT_CHUNK):  # a batch's activations grow with it: ~1 GB at 32
            chunk = [img.image for img in images[first:first + PREDICT_CHUNK]]
            results += loaded.predict(chunk, conf=params.conf, iou=params.iou, classes=class_ids, verbose=False)
        return results, time.perf_counter() - started, started - queued_at

    @staticmethod
    def _image_result(result: Any, image: DecodedImage, model: ModelRead, params: RecognitionParams) -> dict[str, Any]:
        names = dict(enumerate(model.classes))
        width, height = image.size
        if model.task == "classify":
            probs = result.probs
            top5 = [{"name": names[int(i)], "confidence": round(float(c), 4)}
                    for i, c in zip(probs.top5, probs.top5conf.tolist(), strict=True)]
            detections: list[dict[str, Any]] = []
            counts = {top5[0]["name"]: 1} if top5 else {}
        else:
            top5 = None
            detections = _detections(result, names, image)
            counts = {}
            for detection in detections:
                counts[detection["name"]] = counts.get(detection["name"], 0) + 1
        verdict = kit_check.check(counts, expected_count=params.expected_count, kit=params.kit)
        return {"width": width, "height": height, "detections": detections, "counts": counts, "top5": top5,
                "verdict": verdict.verdict, "found": verdict.found, "expected": verdict.expected,
                "missing": verdict.missing, "extra": verdict.extra}

    async def _save(self, staging: Path, per_image: list[dict[str, Any]], model: ModelRead,
                     params: RecognitionParams, timings: dict[str, float], started: float,
                     key_id: int | None, on_behalf_of: str | None) -> RecognitionRead:
        verdicts = {result["verdict"] for result in per_image}
        overall = "unchecked" if verdicts == {"unchecked"} else "complete" if verdicts == {"complete"} else "incomplete"
        timings["total"] = time.perf_counter() - started
        for stage, seconds in timings.items():
            self._observe(stage, seconds)
        timings_ms = {stage: _ms(seconds) for stage, seconds in timings.items()}
        try:
            recognition_id = await self._store.insert(
                key_id=key_id, on_behalf_of=on_behalf_of, model_id=model.id, params=params, images=per_image,
                verdict=overall, timings_ms=timings_ms,
                place_files=lambda new_id: staging.rename(self.files.folder(new_id)))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        recognition = await self.get(recognition_id)
        self._bus.publish("recognition.created", recognition.model_dump(mode="json"))
        return recognition

    async def get(self, recognition_id: int) -> RecognitionRead:
        return await self._store.get(recognition_id)

    async def list(self, *, on_behalf_of: str | None, model_id: int | None, verdict: str | None,
                   since: float | None, until: float | None, limit: int, offset: int,
                   as_of: int | None = None) -> tuple[list[RecognitionRead], int]:
        return await self._store.list(on_behalf_of=on_behalf_of, model_id=model_id, verdict=verdict, since=since,
                                      until=until, limit=limit, offset=offset, as_of=as_of)

    async def image_file(self, recognition: RecognitionRead, index: int, *, original: bool) -> Path:
        """The uploaded original, or the annotated JPEG (drawn and kept the first time it is asked for)."""
        if not 0 <= index < len(recognition.images):
            raise NotFound(f"Recognition {recognition.id} has {len(recognition.images)} image(s).",
                           code="image_not_found")
        if original:
            return self.files.original(recognition.id, index)
        started = time.perf_counter()
        result = recognition.images[index].model_dump()
        path = await asyncio.get_running_loop().run_in_executor(
            self._decoders, self.files.annotated, recognition.id, index, result)
        self._observe("annotate", time.perf_counter() - started)
        return path

    async def delete(self, recognition: RecognitionRead, *, key: ApiKeyRead) -> None:
        require_owner(key, recognition.key_id, "recognition")
        await self._store.delete(recognition.id)
        await self._files_pool.run(self.files.remove, recognition.id)

    async def prune_images(self, *, retention_s: float, batch: int = 500) -> int:
        """Remove the image files of recognitions older than the retention; their results stay. Returns how many."""
        cutoff, removed = time.time() - retention_s, 0
        while True:
            ids = await self._store.with_images_older_than(cutoff, batch)
            if not ids:
                return removed
            for recognition_id in ids:
                await self._files_pool.run(self.files.remove, recognition_id)
            await self._store.mark_images_removed(ids)
            removed += len(ids)
            logger.info("removed the images of %d recognitions older than %.0f days", len(ids), retention_s / 86400)


def _input_side(loaded: Any) -> int | None:
    """The model's input size (its training imgsz), which predict letterboxes every photo to."""
    imgsz = getattr(loaded, "overrides", {}).get("imgsz")
    if isinstance(imgsz, (list, tuple)):
        imgsz = max(imgsz)
    return int(imgsz) if isinstance(imgsz, (int, float)) else None
