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
from api.core.errors import Conflict, NotFound, ValidationFailed
from api.core.events import EventBus
from api.core.memory import release_free_memory
from api.core.pools import Pools
from api.recognition import kit_check
from api.recognition.admission import DecodeBudget
from api.recognition.batching import BatchStats, MicroBatcher
from api.recognition.explanations import Explanations
from api.recognition.files import RecognitionFiles
from api.recognition.images import DecodedImage, decode, tiny_jpeg, work_side
from api.recognition.inference import PREDICT_CHUNK, batch_key, predict_images
from api.recognition.model_cache import ModelCache, load_and_warm
from api.recognition.runtimes import weights_for
from api.recognition.schemas import RecognitionParams, RecognitionRead
from api.recognition.store import RecognitionStore
from api.registry.models.schemas import ModelRead
from api.registry.models.service import ModelRegistry

logger = logging.getLogger(__name__)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def check_params(model: ModelRead, params: RecognitionParams) -> None:
    kit_field = "body.kit" if params.kit_id is None else "body.kit_id"  # the kit was sent, or a stored one's
    if params.kit is not None and params.expected_count is not None:
        raise ValidationFailed.for_field(kit_field, "give either a kit or expected_count, not both")
    if model.task == "classify" and (params.kit is not None or params.expected_count is not None):
        raise ValidationFailed.for_field(kit_field if params.kit is not None else "body.expected_count",
                      "a classification model cannot check a kit or count objects")
    for field, names in ((kit_field, list(params.kit or {})), ("body.classes", params.classes or [])):
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


class Recognizer:
    def __init__(self, *, store: RecognitionStore, bus: EventBus, models: ModelRegistry, root: Path, cache_size: int,
                 pools: Pools, threads: int = 0, telemetry_observe: Any = None) -> None:
        self._store, self._bus, self._models, self._files_pool = store, bus, models, pools.files
        self.files = RecognitionFiles(root)
        # One inference thread: requests queue for it instead of piling threads onto the cores; torch inside it
        # uses `threads` cores (Ultralytics would leave one idle). Decoding a batch is spread over the cores.
        self._inference = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")
        self._decoders = ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="decode")
        # Decoded photos stay in memory until their request is stored: at most 2 x REQUEST_PIXELS of them.
        self._decoding = DecodeBudget(on_idle=lambda: self._files_pool.run(release_free_memory))
        loader = functools.partial(load_and_warm, threads=threads or os.cpu_count() or 1)
        self.cache = ModelCache(cache_size, self._inference, loader)
        self._batcher = MicroBatcher(self._inference, max_images=2 * PREDICT_CHUNK)
        self._observe = telemetry_observe or (lambda stage, seconds: None)
        self.explanations = Explanations(self.files, models, self.cache, self._inference, pools.render, self._observe)
        models.on_delete.append(self.cache.evict)

    async def warm_up(self, *, recent_models: int) -> None:
        """At start, what the first request would otherwise pay: the decoder's lazy imports, importing torch and
        Ultralytics, loading the models used last (or the newest one): measured 2-4 s in the first request's
        `decode`, which includes the model load."""
        await asyncio.get_running_loop().run_in_executor(self._decoders, decode, tiny_jpeg(), 0, 64, 256)
        wanted = await self._store.recent_model_ids(recent_models)
        if not wanted:
            newest, _ = await self._models.list(limit=1, offset=0)
            wanted = [model.id for model in newest]
        for model_id in wanted:
            try:
                model = await self._models.usable(model_id)
                served, weights = weights_for(self._models, model_id, "auto")
                await self.cache.get((model_id, served), weights, model.task)
            except Exception as exc:  # a deleted or quarantined model: the first request will say so
                logger.info("model %d not preloaded: %s", model_id, getattr(exc, "message", repr(exc)))
        await self._files_pool.run(release_free_memory)  # the first trim after loading torch is the slow one

    @property
    def batch_stats(self) -> BatchStats:
        return self._batcher.stats

    def close(self) -> None:
        self._decoding.close()
        self._inference.shutdown(wait=False, cancel_futures=True)
        self._decoders.shutdown(wait=False, cancel_futures=True)

    async def _decode_all(self, uploads: list[bytes], model_side: int | None, first: int = 0) -> list[DecodedImage]:
        loop = asyncio.get_running_loop()
        side = work_side(len(uploads))
        jobs = [loop.run_in_executor(self._decoders, decode, data, index, model_side, side)
                for index, data in enumerate(uploads, first)]
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
        served, weights = weights_for(self._models, model.id, params.runtime)
        params = params.model_copy(update={"runtime": served})  # stored and answered: what actually ran
        loaded = await self.cache.get((model.id, served), weights, model.task)
        # Classification resizes the short side: only detection letterboxes by the long side that drafting keeps.
        async with self._decoding.admit(len(uploads)):
            try:
                images = await self._decode_all(uploads, _input_side(loaded) if model.task == "detect" else None)
                timings["decode"] = time.perf_counter() - started
                return await self._recognize_decoded(uploads, images, loaded, model, params, timings, started,
                                                     key_id, on_behalf_of)
            finally:
                images = []  # the photos go before the heap is trimmed (when the last request leaves)

    async def _recognize_decoded(self, uploads: list[bytes], images: list[DecodedImage], loaded: Any, model: ModelRead,
                                 params: RecognitionParams, timings: dict[str, float], started: float,
                                 key_id: int | None, on_behalf_of: str | None) -> RecognitionRead:
        # The originals go to disk while the model runs: the write costs no wall time.
        staging = self.files.staging_folder()
        writing = asyncio.create_task(self._files_pool.run(self.files.write_originals, staging, images, uploads))
        try:
            per_image = await self._infer(loaded, images, model, params, timings)
            store_started = time.perf_counter()
            await writing
        except BaseException:
            await asyncio.gather(writing, return_exceptions=True)
            await self._files_pool.run(shutil.rmtree, staging, True)
            raise
        timings["store"] = time.perf_counter() - store_started  # what the write added after inference
        return await self._save(staging, per_image, model, params, timings, started, key_id, on_behalf_of)

    async def _infer(self, loaded: Any, images: list[DecodedImage], model: ModelRead, params: RecognitionParams,
                     timings: dict[str, float]) -> list[dict[str, Any]]:
        """Predict (micro-batched on the inference thread) and judge each photo; adds each stage's seconds."""
        results, inference_s, wait_s, _ = await self._batcher.run(
            batch_key(loaded, params, images), loaded, functools.partial(predict_images, model=model, params=params),
            images)
        post_started = time.perf_counter()
        per_image = [self._image_result(result, image, model, params) for result, image in zip(results, images,
                                                                                              strict=True)]
        for stage, seconds in (("queue_wait", wait_s), ("inference", inference_s),
                               ("postprocess", time.perf_counter() - post_started)):
            timings[stage] = timings.get(stage, 0.0) + seconds
        return per_image

    async def recognize_chunk(self, uploads: list[bytes], *, first: int, model: ModelRead, params: RecognitionParams,
                              timings: dict[str, float]) -> list[dict[str, Any]]:
        """A few photos of an async batch (numbered from `first`, runtime resolved): results, nothing stored."""
        _, weights = weights_for(self._models, model.id, params.runtime)
        loaded = await self.cache.get((model.id, params.runtime), weights, model.task)
        async with self._decoding.admit(len(uploads)):
            started = time.perf_counter()
            images = await self._decode_all(uploads, _input_side(loaded) if model.task == "detect" else None, first)
            timings["decode"] = timings.get("decode", 0.0) + time.perf_counter() - started
            return await self._infer(loaded, images, model, params, timings)

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
        overall = kit_check.overall([result["verdict"] for result in per_image])
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
                   as_of: int | None = None, kit_id: int | None = None,
                   sort: str = "-created_at") -> tuple[list[RecognitionRead], int]:
        return await self._store.list(on_behalf_of=on_behalf_of, model_id=model_id, verdict=verdict, since=since,
                                      until=until, limit=limit, offset=offset, as_of=as_of, kit_id=kit_id, sort=sort)

    async def image_file(self, recognition: RecognitionRead, index: int, *, original: bool) -> Path:
        """The uploaded original, or the annotated JPEG (drawn and kept the first time it is asked for)."""
        if recognition.status != "completed":  # an async batch: no results (nor boxes to draw) yet
            raise Conflict(f"Recognition {recognition.id} is {recognition.status}; its images are served once it has "
                           "completed.", code="recognition_not_completed", details={"status": recognition.status})
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
