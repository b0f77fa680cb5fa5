"""SQL of the `kits` table. Names are unique: the constraint, not a prior SELECT, decides a race."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from api.core.database import Database, decode_row
from api.core.errors import Conflict, NotFound
from api.core.pagination import Filters, fetch_page
from api.recognition.kits_schemas import KitRead


def _kit_from_row(row: Any) -> KitRead:
    return KitRead(**decode_row(row, "items"))


def _duplicate(name: str) -> Conflict:
    return Conflict(f"A kit named {name!r} already exists.", code="duplicate_kit", details={"name": name})


class KitStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(self, *, name: str, items: dict[str, int], model_id: int | None, created_by: int | None) -> int:
        try:
            return await self._db.execute(
                "INSERT INTO kits (name, items, model_id, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
                (name, json.dumps(items), model_id, time.time(), created_by))
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" not in str(exc):
                raise
            raise _duplicate(name) from None

    async def get(self, kit_id: int) -> KitRead:
        row = await self._db.fetch_one("SELECT * FROM kits WHERE id = ?", (kit_id,))
        if row is None:
            raise NotFound(f"Kit {kit_id} does not exist.", code="kit_not_found", details={"id": kit_id})
        return _kit_from_row(row)

    async def list(self, *, model_id: int | None, limit: int, offset: int,
                   as_of: int | None = None) -> tuple[list[KitRead], int]:
        return await fetch_page(self._db, table="kits", filters=Filters().add("model_id = ?", model_id),
                                order_by="id DESC", limit=limit, offset=offset, as_of=as_of, decode=_kit_from_row)

    async def update(self, kit_id: int, *, name: str, items: dict[str, int], model_id: int | None) -> None:
        try:
            await self._db.execute("UPDATE kits SET name = ?, items = ?, model_id = ?, updated_at = ? WHERE id = ?",
                                   (name, json.dumps(items), model_id, time.time(), kit_id))
        except sqlite3.IntegrityError as exc:
            if "UNIQUE" not in str(exc):
                raise
            raise _duplicate(name) from None

    async def delete(self, kit_id: int) -> None:
        await self._db.execute("DELETE FROM kits WHERE id = ?", (kit_id,))
