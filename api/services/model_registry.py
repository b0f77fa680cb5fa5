"""Registered models: weights files under data/models and rows in the `models` table."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import time
from pathlib import Path
from typing import Any

from api.database import Database
from api.errors import NotFound
from api.models.registry import ModelRead

_COLUMNS = "id, name, task, architecture, classes, metrics, source, session_id, size_bytes, sha256, created_at, created_by"


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

    def path_of(self, model_id: int) -> Path:
        return self.root / f"{model_id}.pt"

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
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO models (name, task, architecture, classes, metrics, source, session_id, path,"
                " size_bytes, sha256, created_at, created_by) VALUES (?, ?, ?, ?, ?, 'training', ?, '', ?, ?, ?, ?)",
                (name, task, architecture, json.dumps(classes), json.dumps(metrics), session_id,
                 staging.stat().st_size, sha256, time.time(), created_by),
            )
            model_id = int(cursor.lastrowid or 0)
            staging.replace(self.path_of(model_id))
            await conn.execute("UPDATE models SET path = ? WHERE id = ?", (self.path_of(model_id).name, model_id))
        return await self.get(model_id)


def _model_from_row(row: Any) -> ModelRead:
    data = dict(row)
    data["classes"] = json.loads(data["classes"])
    data["metrics"] = json.loads(data["metrics"])
    return ModelRead(**data)
