"""SQL of the `models` table. A row and its file land together: the file is placed inside the row's transaction."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from api.core.database import Database, decode_row
from api.core.errors import NotFound
from api.core.pagination import Filters, fetch_page
from api.registry.in_use import delete_unless_in_use
from api.registry.models.inspection import CheckpointInfo
from api.registry.models.schemas import ModelRead

_COLUMNS = ("id, name, task, architecture, classes, metrics, source, session_id, size_bytes, sha256, created_at,"
            " created_by, original_filename, validated_at IS NOT NULL AS validated, quarantine_reason, auto_export")


def _model_from_row(row: Any) -> ModelRead:
    return ModelRead(**decode_row(row, "classes", "metrics"))


class ModelStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, model_id: int) -> ModelRead:
        row = await self._db.fetch_one(f"SELECT {_COLUMNS} FROM models WHERE id = ?", (model_id,))
        if row is None:
            raise NotFound(f"Model {model_id} does not exist.", code="model_not_found", details={"id": model_id})
        return _model_from_row(row)

    async def list(self, *, limit: int, offset: int, task: str | None,
                   as_of: int | None = None) -> tuple[list[ModelRead], int]:
        return await fetch_page(self._db, table="models", filters=Filters().add("task = ?", task), columns=_COLUMNS,
                                order_by="id DESC", limit=limit, offset=offset, as_of=as_of, decode=_model_from_row)

    async def set_auto_export(self, model_id: int, enabled: bool) -> None:
        await self._db.execute("UPDATE models SET auto_export = ? WHERE id = ?", (int(enabled), model_id))

    async def auto_export_ids(self) -> list[int]:
        rows = await self._db.fetch_all("SELECT id FROM models WHERE auto_export = 1 AND validated_at IS NOT NULL"
                                        " AND quarantine_reason IS NULL")
        return [int(row["id"]) for row in rows]

    async def id_with_sha256(self, sha256: str) -> int | None:
        """A model uploaded from these bytes, or stored as them."""
        return await self._db.fetch_value("SELECT id FROM models WHERE upload_sha256 = ? OR sha256 = ?",
                                          (sha256, sha256))

    async def unvalidated(self) -> list[tuple[int, str]]:
        """(id, sha256) of rows from before the safe-load check."""
        rows = await self._db.fetch_all("SELECT id, sha256 FROM models WHERE validated_at IS NULL")
        return [(row["id"], row["sha256"]) for row in rows]

    async def quarantine(self, model_id: int, reason: str) -> None:
        await self._db.execute("UPDATE models SET validated_at = ?, quarantine_reason = ? WHERE id = ?",
                               (time.time(), reason[:300], model_id))

    async def mark_validated(self, model_id: int, *, size_bytes: int, sha256: str, upload_sha256: str,
                             place_file: Callable[[], None]) -> None:
        async with self._db.transaction() as conn:
            place_file()
            await conn.execute("UPDATE models SET validated_at = ?, size_bytes = ?, sha256 = ?, upload_sha256 = ?"
                               " WHERE id = ?", (time.time(), size_bytes, sha256, upload_sha256, model_id))

    async def insert(self, info: CheckpointInfo, *, name: str, source: str, session_id: int | None, size_bytes: int,
                     sha256: str, upload_sha256: str | None, created_by: int | None, original_filename: str | None,
                     place_file: Callable[[int], str]) -> int:
        """The row, and `place_file(id)` (which returns the stored file name) in the same transaction."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO models (name, task, architecture, classes, metrics, source, session_id, path,"
                " size_bytes, sha256, created_at, created_by, original_filename, upload_sha256, validated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?)",
                (name, info.task, info.architecture, json.dumps(info.classes), json.dumps(info.metrics), source,
                 session_id, size_bytes, sha256, time.time(), created_by, original_filename, upload_sha256,
                 time.time()),
            )
            model_id = int(cursor.lastrowid or 0)
            await conn.execute("UPDATE models SET path = ? WHERE id = ?", (place_file(model_id), model_id))
        return model_id

    async def delete_unless_in_use(self, model_id: int) -> int:
        return await delete_unless_in_use(self._db, table="models", row_id=model_id, session_column="base_model_id",
                                         stream_column="model_id")
