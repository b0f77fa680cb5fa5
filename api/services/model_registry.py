"""Registered models: weights files under data/models and rows in the `models` table."""

from __future__ import annotations

import asyncio
import hashlib
import json
import multiprocessing
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from api.database import Database
from api.errors import Conflict, NotFound, ServiceUnavailable
from api.models.auth import ApiKeyRead
from api.models.registry import ModelRead
from api.services.auth_manager import require_owner
from api.services.model_inspection import inspect_checkpoint
from api.services.pickle_scan import scan_checkpoint
from api.services.uploads import AsyncReadable, stage_upload
from api.trainers.exporter import MissingDependency, export_model

_COLUMNS = ("id, name, task, architecture, classes, metrics, source, session_id, size_bytes, sha256, created_at,"
            " created_by, original_filename")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class ModelRegistry:
    def __init__(self, db: Database, root: Path) -> None:
        self._db = db
        self.root = root
        self.on_delete: list[Callable[[int], None]] = []  # e.g. the recognition cache evicts the model

    def path_of(self, model_id: int, export_format: str = "pt") -> Path:
        return self.root / f"{model_id}.{export_format}"

    def exported_path(self, model_id: int, export_format: str) -> Path:
        path = self.path_of(model_id, export_format)
        if not path.is_file():
            raise NotFound(f"Model {model_id} has no {export_format} export yet; POST /models/{model_id}/export "
                           f"?format={export_format} first.", code="export_not_found")
        return path

    async def export(self, model_id: int, *, export_format: str, imgsz: int, config_dir: Path) -> int:
        """Export in a fresh spawned process; returns the file's size."""
        await self.get(model_id)
        target = self.path_of(model_id, export_format)
        loop = asyncio.get_running_loop()
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            try:
                return await loop.run_in_executor(pool, export_model, str(self.path_of(model_id)), export_format,
                                                  imgsz, str(config_dir), str(target))
            except MissingDependency as exc:
                raise ServiceUnavailable(str(exc), code="export_dependency_missing") from None
            except Exception as exc:
                raise ServiceUnavailable(f"The {export_format} export failed: {type(exc).__name__}: {exc}"[:500],
                                         code="export_failed") from None

    async def get(self, model_id: int) -> ModelRead:
        row = await self._db.fetch_one(f"SELECT {_COLUMNS} FROM models WHERE id = ?", (model_id,))
        if row is None:
            raise NotFound(f"Model {model_id} does not exist.", code="model_not_found", details={"id": model_id})
        return _model_from_row(row)

    async def list(self, *, limit: int, offset: int, task: str | None = None) -> tuple[list[ModelRead], int]:
        where, params = ("WHERE task = ?", [task]) if task else ("", [])
        total = await self._db.fetch_value(f"SELECT COUNT(*) FROM models {where}", params)
        rows = await self._db.fetch_all(
            f"SELECT {_COLUMNS} FROM models {where} ORDER BY id DESC LIMIT ? OFFSET ?", [*params, limit, offset]
        )
        return [_model_from_row(row) for row in rows], int(total)

    async def upload(self, source: AsyncReadable, *, filename: str | None, name: str | None,
                     created_by: int | None, max_bytes: int) -> ModelRead:
        """Scan the pickle before anything loads it, then inspect; only then is the file kept."""
        staged = await stage_upload(source, self.root / ".uploads", max_bytes=max_bytes, suffix=".pt")
        try:
            existing = await self._db.fetch_value("SELECT id FROM models WHERE sha256 = ?", (staged.sha256,))
            if existing is not None:
                raise Conflict("This model file was uploaded before.", code="duplicate_model",
                               details={"existing_id": existing})
            await asyncio.to_thread(scan_checkpoint, staged.path)
            info = await asyncio.to_thread(inspect_checkpoint, staged.path)
            display = (name or Path(filename or "model").stem or "model")[:100]
            return await self._insert(staged.path, name=display, task=info.task, architecture=info.architecture,
                                      classes=info.classes, metrics=info.metrics, source="upload", session_id=None,
                                      sha256=staged.sha256, created_by=created_by,
                                      original_filename=(filename or "")[:255] or None)
        finally:
            staged.path.unlink(missing_ok=True)

    async def delete(self, model_id: int, *, key: ApiKeyRead, in_use: int) -> None:
        model = await self.get(model_id)
        require_owner(key, model.created_by, "model")
        if in_use:
            raise Conflict(f"Model {model_id} is the base of {in_use} queued or running session(s).",
                           code="model_in_use", details={"sessions": in_use})
        await self._db.execute("DELETE FROM models WHERE id = ?", (model_id,))
        for path in self.root.glob(f"{model_id}.*"):
            path.unlink(missing_ok=True)
        for listener in self.on_delete:
            listener(model_id)

    async def register_trained(
        self,
        *,
        weights: Path,
        name: str,
        task: str,
        architecture: str,
        classes: list[str],
        metrics: dict[str, float],
        session_id: int,
        created_by: int | None,
    ) -> ModelRead:
        """Copy a run's best weights into the registry (a run dir may be deleted later)."""
        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / f".staging-session-{session_id}.pt"
        await asyncio.to_thread(shutil.copyfile, weights, staging)
        sha256 = await asyncio.to_thread(file_sha256, staging)
        return await self._insert(staging, name=name, task=task, architecture=architecture, classes=classes,
                                  metrics=metrics, source="training", session_id=session_id, sha256=sha256,
                                  created_by=created_by, original_filename=None)

    async def _insert(self, staged: Path, *, name: str, task: str, architecture: str, classes: list[str],
                      metrics: dict[str, float], source: str, session_id: int | None, sha256: str,
                      created_by: int | None, original_filename: str | None) -> ModelRead:
        """Row and file together: the file is renamed into place inside the row's transaction."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO models (name, task, architecture, classes, metrics, source, session_id, path,"
                " size_bytes, sha256, created_at, created_by, original_filename)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?)",
                (name, task, architecture, json.dumps(classes), json.dumps(metrics), source, session_id,
                 staged.stat().st_size, sha256, time.time(), created_by, original_filename),
            )
            model_id = int(cursor.lastrowid or 0)
            staged.replace(self.path_of(model_id))
            await conn.execute("UPDATE models SET path = ? WHERE id = ?", (self.path_of(model_id).name, model_id))
        return await self.get(model_id)


def _model_from_row(row: Any) -> ModelRead:
    data = dict(row)
    data["classes"] = json.loads(data["classes"])
    data["metrics"] = json.loads(data["metrics"])
    return ModelRead(**data)
