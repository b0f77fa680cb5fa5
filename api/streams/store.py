"""SQL of the `streams` table. Names are unique: the constraint, not a prior SELECT, decides a race."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from api.core.database import Database
from api.core.errors import Conflict, NotFound
from api.core.pagination import Filters, fetch_page
from api.streams.records import StreamRow


def _from_row(row: Any) -> StreamRow:
    return StreamRow(id=row["id"], name=row["name"], source=row["source"], model_id=row["model_id"],
                     settings=json.loads(row["settings"]), enabled=bool(row["enabled"]), created_at=row["created_at"],
                     created_by=row["created_by"], updated_at=row["updated_at"])


def _duplicate(name: str) -> Conflict:
    return Conflict(f"A stream named {name!r} already exists.", code="duplicate_stream", details={"name": name})


def not_found(stream_id: int) -> NotFound:
    return NotFound(f"Stream {stream_id} does not exist.", code="stream_not_found", details={"id": stream_id})


class StreamStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(self, *, name: str, source: str, model_id: int, settings: dict[str, Any], enabled: bool,
                     created_by: int | None) -> int:
        try:
            return await self._db.execute(
                "INSERT INTO streams (name, source, model_id, settings, enabled, created_at, created_by)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name, source, model_id, json.dumps(settings), int(enabled), time.time(), created_by))
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" not in str(exc):
                raise
            raise _duplicate(name) from None

    async def get(self, stream_id: int) -> StreamRow:
        row = await self._db.fetch_one("SELECT * FROM streams WHERE id = ?", (stream_id,))
        if row is None:
            raise not_found(stream_id)
        return _from_row(row)

    async def get_by_name(self, name: str) -> StreamRow | None:
        row = await self._db.fetch_one("SELECT * FROM streams WHERE name = ?", (name,))
        return None if row is None else _from_row(row)

    async def list(self, *, limit: int, offset: int, as_of: int | None = None) -> tuple[list[StreamRow], int]:
        return await fetch_page(self._db, table="streams", filters=Filters(), order_by="id ASC", limit=limit,
                                offset=offset, as_of=as_of, decode=_from_row)

    async def all(self) -> list[StreamRow]:
        return [_from_row(row) for row in await self._db.fetch_all("SELECT * FROM streams ORDER BY id")]

    async def enabled(self) -> list[StreamRow]:
        return [_from_row(row) for row in await self._db.fetch_all("SELECT * FROM streams WHERE enabled = 1")]

    async def update(self, row: StreamRow) -> None:
        try:
            await self._db.execute(
                "UPDATE streams SET name = ?, source = ?, model_id = ?, settings = ?, enabled = ?, updated_at = ?"
                " WHERE id = ?",
                (row.name, row.source, row.model_id, json.dumps(row.settings), int(row.enabled), time.time(), row.id))
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" not in str(exc):
                raise
            raise _duplicate(row.name) from None

    async def set_enabled(self, stream_id: int, enabled: bool) -> None:
        await self._db.execute("UPDATE streams SET enabled = ?, updated_at = ? WHERE id = ?",
                               (int(enabled), time.time(), stream_id))

    async def delete(self, stream_id: int) -> None:
        await self._db.execute("DELETE FROM streams WHERE id = ?", (stream_id,))

    async def replace_all(self, *, creates: list[dict[str, Any]], updates: list[StreamRow], deletes: list[int],
                          created_by: int | None) -> list[int]:
        """An imported config as one transaction: all of it or nothing. Returns the ids of the new streams."""
        now, new_ids = time.time(), []
        async with self._db.transaction() as conn:
            for stream_id in deletes:
                await conn.execute("DELETE FROM streams WHERE id = ?", (stream_id,))
            for row in updates:
                await conn.execute(
                    "UPDATE streams SET source = ?, model_id = ?, settings = ?, enabled = ?, updated_at = ? WHERE id = ?",
                    (row.source, row.model_id, json.dumps(row.settings), int(row.enabled), now, row.id))
            for values in creates:
                cursor = await conn.execute(
                    "INSERT INTO streams (name, source, model_id, settings, enabled, created_at, created_by)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (values["name"], values["source"], values["model_id"], json.dumps(values["settings"]),
                     int(values["enabled"]), now, created_by))
                new_ids.append(int(cursor.lastrowid or 0))
        return new_ids
