"""Recognitions: decode, one batched predict per request on a bounded inference queue, verdicts,
annotated images, and a stored, filterable history."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from api.database import Database
from api.errors import NotFound, ValidationFailed
from api.models.auth import ApiKeyRead
from api.models.recognitions import RecognitionParams, RecognitionRead
from api.models.registry import ModelRead
from api.services import kit_check
from api.services.auth_manager import require_owner
from api.services.events import EventBus
from api.services.model_cache import ModelCache
from api.services.model_registry import ModelRegistry
from api.services.recognition_images import DecodedImage, annotate, decode


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


def _detections(result: Any, names: dict[int, str]) -> list[dict[str, Any]]:
    boxes = result.boxes
    height, width = result.orig_shape
    found = []
    for xyxy, conf, cls in zip(boxes.xyxy.tolist(), boxes.conf.tolist(), boxes.cls.tolist(), strict=True):
        box = [round(v, 1) for v in xyxy]
        found.append({"class_id": int(cls), "name": names[int(cls)], "confidence": round(conf, 4), "box": box,
                      "box_normalized": [round(box[0] / width, 5), round(box[1] / height, 5),
                                         round(box[2] / width, 5), round(box[3] / height, 5)]})
    return found


class Recognizer:
    def __init__(self, *, db: Database, bus: EventBus, models: ModelRegistry, root: Path, cache_size: int,
                 telemetry_observe: Any = None) -> None:
        self._db, self._bus, self._models, self.root = db, bus, models, root
        # One inference thread: requests queue for it instead of piling threads onto two cores.
        self._inference = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")
        self.cache = ModelCache(cache_size, self._inference)
        self._observe = telemetry_observe or (lambda stage, seconds: None)
        models.on_delete.append(self.cache.evict)

    def close(self) -> None:
        self._inference.shutdown(wait=False, cancel_futures=True)

    async def recognize(self, uploads: list[bytes], *, model_id: int, params: RecognitionParams,
                        key_id: int | None, on_behalf_of: str | None) -> RecognitionRead:
        model = await self._models.get(model_id)
        check_params(model, params)
        timings: dict[str, float] = {}
        started = time.perf_counter()
        images = await asyncio.to_thread(lambda: [decode(data, i) for i, data in enumerate(uploads)])
        timings["decode"] = time.perf_counter() - started
        loaded = await self.cache.get(model.id, self._models.path_of(model.id), model.task)
        queued_at = time.perf_counter()
        results, inference_s, wait_s = await asyncio.get_running_loop().run_in_executor(
            self._inference, self._predict, loaded, images, params, model, queued_at)
        timings["queue_wait"], timings["inference"] = wait_s, inference_s
        post_started = time.perf_counter()
        per_image = [self._image_result(result, model, params) for result in results]
        timings["postprocess"] = time.perf_counter() - post_started
        annotate_started = time.perf_counter()
        jpegs = await asyncio.to_thread(
            lambda: [annotate(img.image, res["detections"], _caption(res)) for img, res in zip(images, per_image,
                                                                                                 strict=True)])
        timings["annotate"] = time.perf_counter() - annotate_started
        timings["total"] = time.perf_counter() - started
        for stage, seconds in timings.items():
            self._observe(stage, seconds)
        return await self._store(images, uploads, jpegs, per_image, model, params, timings, key_id, on_behalf_of)

    @staticmethod
    def _predict(loaded: Any, images: list[DecodedImage], params: RecognitionParams, model: ModelRead,
                 queued_at: float) -> tuple[list[Any], float, float]:
        started = time.perf_counter()
        class_ids = [model.classes.index(name) for name in params.classes] if params.classes else None
        results = loaded.predict([img.image for img in images], conf=params.conf, iou=params.iou, classes=class_ids,
                                 verbose=False)
        return results, time.perf_counter() - started, started - queued_at

    @staticmethod
    def _image_result(result: Any, model: ModelRead, params: RecognitionParams) -> dict[str, Any]:
        names = dict(enumerate(model.classes))
        height, width = result.orig_shape
        if model.task == "classify":
            probs = result.probs
            top5 = [{"name": names[int(i)], "confidence": round(float(c), 4)}
                    for i, c in zip(probs.top5, probs.top5conf.tolist(), strict=True)]
            detections: list[dict[str, Any]] = []
            counts = {top5[0]["name"]: 1} if top5 else {}
        else:
            top5 = None
            detections = _detections(result, names)
            counts = {}
            for detection in detections:
                counts[detection["name"]] = counts.get(detection["name"], 0) + 1
        verdict = kit_check.check(counts, expected_count=params.expected_count, kit=params.kit)
        return {"width": width, "height": height, "detections": detections, "counts": counts, "top5": top5,
                "verdict": verdict.verdict, "found": verdict.found, "expected": verdict.expected,
                "missing": verdict.missing, "extra": verdict.extra}

    async def _store(self, images: list[DecodedImage], uploads: list[bytes], jpegs: list[bytes],
                     per_image: list[dict[str, Any]], model: ModelRead, params: RecognitionParams,
                     timings: dict[str, float], key_id: int | None, on_behalf_of: str | None) -> RecognitionRead:
        verdicts = {result["verdict"] for result in per_image}
        overall = "unchecked" if verdicts == {"unchecked"} else "complete" if verdicts == {"complete"} else "incomplete"
        timings_ms = {stage: _ms(seconds) for stage, seconds in timings.items()}
        staging = self.root / f".staging-{time.time_ns()}"
        await asyncio.to_thread(_write_images, staging, images, uploads, jpegs)
        try:
            async with self._db.transaction() as conn:
                cursor = await conn.execute(
                    "INSERT INTO recognitions (created_at, key_id, on_behalf_of, model_id, params, images, verdict,"
                    " timings) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (time.time(), key_id, on_behalf_of, model.id, params.model_dump_json(), json.dumps(per_image),
                     overall, json.dumps(timings_ms)),
                )
                recognition_id = int(cursor.lastrowid or 0)
                staging.rename(self.root / str(recognition_id))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        recognition = await self.get(recognition_id)
        self._bus.publish("recognition.created", recognition.model_dump(mode="json"))
        return recognition

    async def get(self, recognition_id: int) -> RecognitionRead:
        row = await self._db.fetch_one("SELECT * FROM recognitions WHERE id = ?", (recognition_id,))
        if row is None:
            raise NotFound(f"Recognition {recognition_id} does not exist.", code="recognition_not_found")
        return _from_row(row)

    async def list(self, *, on_behalf_of: str | None, model_id: int | None, verdict: str | None,
                   since: float | None, until: float | None, limit: int, offset: int) -> tuple[list[RecognitionRead], int]:
        where, params = [], []
        for clause, value in (("on_behalf_of = ?", on_behalf_of), ("model_id = ?", model_id),
                              ("verdict = ?", verdict), ("created_at >= ?", since), ("created_at <= ?", until)):
            if value is not None:
                where.append(clause)
                params.append(value)
        sql_where = f"WHERE {' AND '.join(where)}" if where else ""
        total = await self._db.fetch_value(f"SELECT COUNT(*) FROM recognitions {sql_where}", params)
        rows = await self._db.fetch_all(
            f"SELECT * FROM recognitions {sql_where} ORDER BY id DESC LIMIT ? OFFSET ?", [*params, limit, offset])
        return [_from_row(row) for row in rows], int(total)

    def image_path(self, recognition: RecognitionRead, index: int, *, original: bool) -> Path:
        if not 0 <= index < len(recognition.images):
            raise NotFound(f"Recognition {recognition.id} has {len(recognition.images)} image(s).",
                           code="image_not_found")
        folder = self.root / str(recognition.id)
        if original:
            found = sorted(folder.glob(f"{index}.original.*"))
            if not found:
                raise NotFound("The original image is no longer stored.", code="image_not_found")
            return found[0]
        return folder / f"{index}.jpg"

    async def delete(self, recognition: RecognitionRead, *, key: ApiKeyRead) -> None:
        require_owner(key, recognition.key_id, "recognition")
        await self._db.execute("DELETE FROM recognitions WHERE id = ?", (recognition.id,))
        await asyncio.to_thread(shutil.rmtree, self.root / str(recognition.id), True)


def _caption(result: dict[str, Any]) -> str:
    if result["verdict"] == "complete":
        return f"complete {result['found']}/{result['expected']}"
    if result["verdict"] == "incomplete":
        missing = ", ".join(f"{name} x{n}" for name, n in result["missing"].items())
        extra = ", ".join(f"{name} x{n}" for name, n in result["extra"].items())
        return "incomplete: " + "; ".join(p for p in (f"missing {missing}" if missing else "",
                                                       f"extra {extra}" if extra else "") if p)
    return ", ".join(f"{name} x{n}" for name, n in result["counts"].items()) or "nothing found"


def _write_images(folder: Path, images: list[DecodedImage], uploads: list[bytes], jpegs: list[bytes]) -> None:
    folder.mkdir(parents=True)
    for index, (image, raw, jpeg) in enumerate(zip(images, uploads, jpegs, strict=True)):
        (folder / f"{index}.original.{image.extension}").write_bytes(raw)
        (folder / f"{index}.jpg").write_bytes(jpeg)


def _from_row(row: Any) -> RecognitionRead:
    data = dict(row)
    images = json.loads(data.pop("images"))
    for index, image in enumerate(images):
        image["index"] = index
        image["image_url"] = f"/api/v1/recognitions/{data['id']}/images/{index}"
        image["original_url"] = f"/api/v1/recognitions/{data['id']}/images/{index}?original=true"
    params = json.loads(data.pop("params"))
    timings = json.loads(data.pop("timings"))
    return RecognitionRead(**data, images=images, params=params, timings_ms=timings)
