"""Big recognition batches (mode=async): the photos are staged on disk and the row stored as queued (202), then
one worker recognizes one batch at a time, a chunk of photos per model call, and reports progress in the row and as
`recognition.progress` events. At most `max_waiting` batches wait; more are refused (503 busy), nothing stored.

A batch a previous server left queued or running fails at start-up ("interrupted by a restart"); its photos stay."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from api.core.errors import NotFound, PayloadTooLarge, ServiceUnavailable, ValidationFailed, as_app_error
from api.core.events import EventBus
from api.core.memory import release_free_memory
from api.core.pools import Pool
from api.core.uploads import AsyncReadable
from api.recognition import kit_check
from api.recognition.batch_store import BatchStore
from api.recognition.files import RecognitionFiles
from api.recognition.images import probe
from api.recognition.runtimes import weights_for
from api.recognition.schemas import RecognitionParams, RecognitionRead
from api.recognition.service import PREDICT_CHUNK, Recognizer, check_params
from api.registry.models.schemas import ModelRead
from api.registry.models.service import ModelRegistry

logger = logging.getLogger(__name__)

INTERRUPTED = "interrupted by a restart"
RETRY_AFTER_S = 30
CHUNK = PREDICT_CHUNK  # photos decoded and held at once, one model call


def _stage_photo(folder: Path, index: int, data: bytes) -> None:
    """Blocking: the header checks a sync request makes before decoding, then the photo as uploaded."""
    extension = probe(data, index)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{index}.original.{extension}").write_bytes(data)


def _read_photos(files: RecognitionFiles, recognition_id: int, first: int, last: int) -> list[bytes]:
    return [files.original(recognition_id, index).read_bytes() for index in range(first, last)]


class RecognitionBatches:
    """The queue of async batches and the one worker that runs them, in order."""

    def __init__(self, *, recognizer: Recognizer, store: BatchStore, bus: EventBus, models: ModelRegistry,
                 files: Pool, max_waiting: int, max_image_bytes: int) -> None:
        self._recognizer, self._store, self._bus, self._models, self._files = recognizer, store, bus, models, files
        self._max_waiting, self._max_image_bytes = max_waiting, max_image_bytes
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        self._staging = 0  # submissions still writing their photos: they hold a place in the queue
        self._worker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        interrupted = await self._store.fail_unfinished(INTERRUPTED)
        if interrupted:
            logger.warning("async recognition batch(es) %s were interrupted by a restart; marked failed",
                           ", ".join(map(str, interrupted)))
        self._worker = asyncio.create_task(self._work(), name="recognition-batches")

    async def stop(self) -> None:
        """The batch being run stays `running` in its row: the next start marks it interrupted."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    @property
    def waiting(self) -> int:
        return self._queue.qsize() + self._staging

    async def submit(self, uploads: Sequence[AsyncReadable], *, model_id: int, params: RecognitionParams,
                     key_id: int | None, on_behalf_of: str | None) -> RecognitionRead:
        """Check, stage the photos and store a queued row; the worker recognizes them later."""
        model = await self._models.usable(model_id)
        check_params(model, params)
        served, _ = weights_for(self._models, model.id, params.runtime)  # an ONNX runtime not exported: 409 now
        params = params.model_copy(update={"runtime": served})
        if self.waiting >= self._max_waiting:
            raise ServiceUnavailable(
                f"{self.waiting} recognition batches are waiting already; try again later.", code="busy",
                headers={"Retry-After": str(RETRY_AFTER_S)}, details={"waiting": self.waiting,
                                                                      "max_waiting": self._max_waiting})
        self._staging += 1
        files = self._recognizer.files
        staging = files.staging_folder()
        try:
            for index, upload in enumerate(uploads):
                await self._files.run(_stage_photo, staging, index, await self._read(upload, index))
            recognition_id = await self._store.insert_queued(
                key_id=key_id, on_behalf_of=on_behalf_of, model_id=model.id, params=params, total=len(uploads),
                place_files=lambda new_id: staging.rename(files.folder(new_id)))
        except BaseException:
            await asyncio.to_thread(shutil.rmtree, staging, True)
            raise
        finally:
            self._staging -= 1
        self._queue.put_nowait(recognition_id)
        return await self._recognizer.get(recognition_id)

    async def _read(self, upload: AsyncReadable, index: int) -> bytes:
        """One photo in memory at a time: the limit + 1 bytes tell a photo over the limit."""
        data = await upload.read(self._max_image_bytes + 1)
        if len(data) > self._max_image_bytes:
            raise PayloadTooLarge(f"Image {index} is larger than {self._max_image_bytes // 2**20} MiB.",
                                  details={"image": index, "max_bytes": self._max_image_bytes})
        if not data:
            raise ValidationFailed.for_field("body.images", f"image {index} is empty")
        return data

    async def _work(self) -> None:
        while True:
            recognition_id = await self._queue.get()
            try:
                await self._run(recognition_id)
            except Exception as exc:  # the batch fails, the worker goes on with the next one
                await self._fail(recognition_id, exc)

    async def _run(self, recognition_id: int) -> None:
        if not await self._store.mark_running(recognition_id):
            return  # deleted while it waited
        recognition = await self._recognizer.get(recognition_id)
        if recognition.model_id is None:
            raise NotFound("The model was deleted before the batch ran.", code="model_not_found")
        model = await self._models.usable(recognition.model_id)
        started, timings = time.perf_counter(), dict[str, float]()
        per_image: list[dict[str, Any]] = []
        try:
            for first in range(0, recognition.total, CHUNK):
                if not await self._run_chunk(recognition, model, first, per_image, timings):
                    return  # deleted while it ran
        finally:
            await self._files.run(release_free_memory)
        timings["total"] = time.perf_counter() - started
        verdict = kit_check.overall([result["verdict"] for result in per_image])
        done = await self._store.complete(recognition_id, images=per_image, verdict=verdict, timings_ms={
            stage: round(seconds * 1000, 2) for stage, seconds in timings.items()})
        if done:
            self._bus.publish("recognition.completed", {
                "recognition_id": recognition_id, "status": "completed", "verdict": verdict,
                "processed": len(per_image), "total": recognition.total})

    async def _run_chunk(self, recognition: RecognitionRead, model: ModelRead, first: int,
                         per_image: list[dict[str, Any]], timings: dict[str, float]) -> bool:
        """Photos first.. of the batch: read, recognized, counted in the row. False once the row is gone."""
        last = min(first + CHUNK, recognition.total)
        photos = await self._files.run(_read_photos, self._recognizer.files, recognition.id, first, last)
        per_image += await self._recognizer.recognize_chunk(photos, first=first, model=model,
                                                            params=recognition.params, timings=timings)
        if not await self._store.set_progress(recognition.id, len(per_image)):
            return False
        self._bus.publish("recognition.progress", {"recognition_id": recognition.id, "processed": len(per_image),
                                                   "total": recognition.total})
        return True

    async def _fail(self, recognition_id: int, exc: Exception) -> None:
        known = as_app_error(exc)
        if known is None:
            logger.error("async recognition %d failed", recognition_id, exc_info=exc)
        error = known.message if known is not None else f"internal error ({type(exc).__name__}); see the server log"
        try:
            failed = await self._store.fail(recognition_id, error)
        except Exception:
            logger.exception("could not mark async recognition %d failed", recognition_id)
            return
        if failed:
            self._bus.publish("recognition.failed", {"recognition_id": recognition_id, "status": "failed",
                                                     "error": error})
