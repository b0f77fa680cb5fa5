"""Registered models: weights files under data/models and rows in the `models` table."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from api.auth.schemas import ApiKeyRead
from api.auth.service import require_owner
from api.core.errors import AppError, Conflict, NotFound, ServiceUnavailable
from api.core.isolated import Limits
from api.core.pools import Pools
from api.core.uploads import AsyncReadable, stage_upload
from api.registry.models.exporter import MissingDependency, export_model
from api.registry.models.inspection import CheckpointInfo
from api.registry.models.schemas import ModelRead
from api.registry.models.store import ModelStore
from api.registry.models.validation import validate_in_child

logger = logging.getLogger(__name__)

def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class ModelRegistry:
    def __init__(self, store: ModelStore, root: Path, *, config_dir: Path, load_limits: Limits, pools: Pools) -> None:
        self._store, self._pools = store, pools
        self.root = root
        self._config_dir, self._load_limits = config_dir, load_limits
        self._exports = asyncio.Semaphore(1)  # an export process holds torch and the model (~0.5 GB): one at a time
        self._running_exports: dict[tuple[int, str, int | None], asyncio.Future[tuple[int, int]]] = {}
        self._background: set[asyncio.Task[None]] = set()
        self.on_delete: list[Callable[[int], None]] = []  # e.g. the recognition cache evicts the model

    def path_of(self, model_id: int, export_format: str = "pt") -> Path:
        return self.root / f"{model_id}.{export_format}"

    def exported_path(self, model_id: int, export_format: str) -> Path:
        path = self.path_of(model_id, export_format)
        if not path.is_file():
            raise NotFound(f"Model {model_id} has no {export_format} export yet; POST /models/{model_id}/export "
                           f"?format={export_format} first.", code="export_not_found")
        return path

    async def export(self, model_id: int, *, export_format: str, imgsz: int | None,
                     config_dir: Path) -> tuple[int, int]:
        """Export in a fresh spawned process; returns (the file's size, its imgsz). Concurrent exports wait their
        turn; a new export replaces the served one (the recognition cache drops the old)."""
        await self.usable(model_id)
        key = (model_id, export_format, imgsz)
        running = self._running_exports.get(key)
        if running is None:  # identical requests at once share one export (they would write the same file)
            running = asyncio.ensure_future(self._export_in_turn(model_id, export_format, imgsz, config_dir))
            self._running_exports[key] = running
            running.add_done_callback(lambda _: self._running_exports.pop(key, None))
        return await asyncio.shield(running)

    async def _export_in_turn(self, model_id: int, export_format: str, imgsz: int | None,
                              config_dir: Path) -> tuple[int, int]:
        async with self._exports:
            done = await self._export(model_id, export_format=export_format, imgsz=imgsz, config_dir=config_dir)
        self.on_model_changed(model_id)
        return done

    async def _export(self, model_id: int, *, export_format: str, imgsz: int | None,
                      config_dir: Path) -> tuple[int, int]:
        target = self.path_of(model_id, export_format)
        loop = asyncio.get_running_loop()
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            try:
                return await loop.run_in_executor(pool, export_model, str(self.path_of(model_id)), export_format,
                                                  imgsz, str(config_dir), str(target))
            except MissingDependency as exc:
                raise ServiceUnavailable(str(exc), code="export_dependency_missing") from None
            except Exception as exc:  # its message holds server paths: logged here, only the kind goes out
                logger.warning("model %d: %s export failed: %r", model_id, export_format, exc)
                raise ServiceUnavailable(f"The {export_format} export failed ({type(exc).__name__}); the server log "
                                         "has the details.", code="export_failed") from None

    async def set_auto_export(self, model_id: int, enabled: bool, *, key: ApiKeyRead) -> ModelRead:
        """auto_export on: an ONNX export is made in the background now (and after a restart, if still missing)."""
        model = await self.usable(model_id)
        require_owner(key, model.created_by, "model", "change")
        await self._store.set_auto_export(model_id, enabled)
        if enabled:
            self.export_in_background(model_id)
        return await self.get(model_id)

    def export_in_background(self, model_id: int) -> None:
        if self.path_of(model_id, "onnx").is_file():
            return

        async def run() -> None:
            try:
                await self.export(model_id, export_format="onnx", imgsz=None, config_dir=self._config_dir)
                logger.info("model %d: ONNX export made (auto_export)", model_id)
            except Exception as exc:  # logged: nobody waits on it; the next start tries again
                logger.warning("model %d: auto_export failed: %s", model_id, getattr(exc, "message", repr(exc)))

        task = asyncio.create_task(run(), name=f"auto-export-{model_id}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def resume_auto_exports(self) -> None:
        for model_id in await self._store.auto_export_ids():
            self.export_in_background(model_id)

    async def usable(self, model_id: int) -> ModelRead:
        """The model, if its weights passed the safe-load check; 409 while unchecked or when quarantined."""
        model = await self.get(model_id)
        if model.quarantine_reason:
            raise Conflict(f"Model {model_id} is quarantined: {model.quarantine_reason}", code="model_quarantined",
                           details={"reason": model.quarantine_reason})
        if not model.validated:
            raise Conflict(f"Model {model_id} is still being checked; try again shortly.", code="model_not_validated",
                           headers={"Retry-After": "5"})
        return model

    async def get(self, model_id: int) -> ModelRead:
        return await self._store.get(model_id)

    async def list(self, *, limit: int, offset: int, task: str | None = None,
                   as_of: int | None = None) -> tuple[list[ModelRead], int]:
        return await self._store.list(limit=limit, offset=offset, task=task, as_of=as_of)

    async def upload(self, source: AsyncReadable, *, filename: str | None, name: str | None,
                     created_by: int | None, max_bytes: int) -> ModelRead:
        """Load it inertly in a throwaway process and keep only the normalised copy (safe_load.py says why)."""
        staged = await stage_upload(source, self.root / ".uploads", max_bytes=max_bytes, suffix=".pt",
                                  writer=self._pools.files)
        normalised = staged.path.with_suffix(".norm.pt")
        try:
            existing = await self._store.id_with_sha256(staged.sha256)
            if existing is not None:
                raise Conflict("This model file was uploaded before.", code="duplicate_model",
                               details={"existing_id": existing})
            info = await self._validate(staged.path, normalised)
            display = (name or Path(filename or "model").stem or "model")[:100]
            return await self._insert(normalised, info, name=display, source="upload", session_id=None,
                                      upload_sha256=staged.sha256, created_by=created_by,
                                      original_filename=(filename or "")[:255] or None)
        finally:
            staged.path.unlink(missing_ok=True)
            normalised.unlink(missing_ok=True)

    async def delete(self, model_id: int, *, key: ApiKeyRead) -> None:
        model = await self.get(model_id)
        require_owner(key, model.created_by, "model")
        in_use = await self._store.delete_unless_in_use(model_id)
        if in_use:
            raise Conflict(f"Model {model_id} is used by {in_use} queued or running session(s) or stream(s).",
                           code="model_in_use", details={"sessions": in_use})
        for path in self.root.glob(f"{model_id}.*"):
            path.unlink(missing_ok=True)
        for listener in self.on_delete:
            listener(model_id)

    async def register_trained(self, *, weights: Path, name: str, metrics: dict[str, float], session_id: int,
                               created_by: int | None) -> ModelRead:
        """A run's best weights, through the same loader as an upload (a run dir is as writable as an upload)."""
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".staging-session-{session_id}.pt"
        try:
            info = await self._validate(weights, staging)
            info = CheckpointInfo(task=info.task, architecture=info.architecture, classes=info.classes,
                                  metrics=metrics or info.metrics)
            return await self._insert(staging, info, name=name, source="training", session_id=session_id,
                                      upload_sha256=None, created_by=created_by, original_filename=None)
        finally:
            staging.unlink(missing_ok=True)

    async def revalidate_pending(self) -> None:
        """Rows registered before the safe-load check: normalise them, or quarantine what fails (at start-up)."""
        for model_id, old_sha256 in await self._store.unvalidated():
            path = self.path_of(model_id)
            staging = self.root / f".staging-revalidate-{model_id}.pt"
            try:
                await self._validate(path, staging)
            except Exception as exc:
                reason = exc.message if isinstance(exc, AppError) else "its weights could not be checked"
                logger.warning("model %d quarantined: %s", model_id, reason)
                await self._store.quarantine(model_id, reason)
                continue
            finally:
                self.on_model_changed(model_id)
            sha256 = await self._pools.files.run(file_sha256, staging)
            await self._store.mark_validated(model_id, size_bytes=staging.stat().st_size, sha256=sha256,
                                             upload_sha256=old_sha256, place_file=functools.partial(staging.replace, path))
            logger.info("model %d re-validated and normalised", model_id)

    def on_model_changed(self, model_id: int) -> None:
        for listener in self.on_delete:
            listener(model_id)

    async def _validate(self, source: Path, target: Path) -> CheckpointInfo:
        return await validate_in_child(source, target, config_dir=self._config_dir, limits=self._load_limits,
                                       waiter=self._pools.waits)

    async def _insert(self, staged: Path, info: CheckpointInfo, *, name: str, source: str, session_id: int | None,
                      upload_sha256: str | None, created_by: int | None, original_filename: str | None) -> ModelRead:
        """Row and file together: the file is renamed into place inside the row's transaction."""
        sha256 = await self._pools.files.run(file_sha256, staged)

        def place_file(model_id: int) -> str:
            return staged.replace(self.path_of(model_id)).name

        model_id = await self._store.insert(info, name=name, source=source, session_id=session_id,
                                            size_bytes=staged.stat().st_size, sha256=sha256,
                                            upload_sha256=upload_sha256, created_by=created_by,
                                            original_filename=original_filename, place_file=place_file)
        return await self.get(model_id)

