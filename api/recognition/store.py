"""SQL of the `recognitions` table. A row and its image folder land together, inside one transaction."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from api.core.database import Database, decode_row
from api.core.errors import NotFound
from api.core.pagination import Filters, fetch_page
from api.recognition.schemas import RecognitionParams, RecognitionRead

# ids grow with created_at: ordering by id is ordering by time, on the primary key.
SORTS = {"-created_at": "id DESC", "created_at": "id ASC", "verdict": "verdict, id DESC"}


class RecognitionStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(self, *, key_id: int | None, on_behalf_of: str | None, model_id: int, params: RecognitionParams,
                     images: list[dict[str, Any]], verdict: str, timings_ms: dict[str, float],
                     place_files: Callable[[int], None]) -> int:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO recognitions (created_at, key_id, on_behalf_of, model_id, params, images, verdict,"
                " timings, kit_id, processed, total) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (time.time(), key_id, on_behalf_of, model_id, params.model_dump_json(), json.dumps(images), verdict,
                 json.dumps(timings_ms), params.kit_id, len(images), len(images)),
            )
            recognition_id = int(cursor.lastrowid or 0)
            place_files(recognition_id)
        return recognition_id

    async def get(self, recognition_id: int) -> RecognitionRead:
        row = await self._db.fetch_one("SELECT * FROM recognitions WHERE id = ?", (recognition_id,))
        if row is None:
            raise NotFound(f"Recognition {recognition_id} does not exist.", code="recognition_not_found")
        return _from_row(row)

    async def list(self, *, on_behalf_of: str | None, model_id: int | None, verdict: str | None,
                   since: float | None, until: float | None, limit: int, offset: int,
                   as_of: int | None = None, kit_id: int | None = None,
                   sort: str = "-created_at") -> tuple[list[RecognitionRead], int]:
        filters = Filters().add("on_behalf_of = ?", on_behalf_of).add("model_id = ?", model_id)
        filters.add("verdict = ?", verdict).add("created_at >= ?", since).add("created_at <= ?", until)
        filters.add("status = ?", "completed" if verdict else None)  # an unfinished batch has no verdict yet
        filters.add("kit_id = ?", kit_id)
        return await fetch_page(self._db, table="recognitions", filters=filters, order_by=SORTS[sort], limit=limit,
                                offset=offset, as_of=as_of, decode=_from_row)

    async def recent_model_ids(self, count: int) -> list[int]:
        """The models of the latest recognitions, most recent first."""
        rows = await self._db.fetch_all(
            "SELECT model_id FROM recognitions WHERE model_id IS NOT NULL GROUP BY model_id"
            " ORDER BY MAX(id) DESC LIMIT ?", (count,))
        return [int(row["model_id"]) for row in rows]

    async def delete(self, recognition_id: int) -> None:
        await self._db.execute("DELETE FROM recognitions WHERE id = ?", (recognition_id,))

    async def with_images_older_than(self, cutoff: float, limit: int) -> list[int]:
        rows = await self._db.fetch_all(
            "SELECT id FROM recognitions WHERE images_removed_at IS NULL AND created_at < ? LIMIT ?", (cutoff, limit))
        return [int(row["id"]) for row in rows]

    async def mark_images_removed(self, ids: list[int]) -> None:
        await self._db.executemany("UPDATE recognitions SET images_removed_at = ? WHERE id = ?",
                                   [(time.time(), recognition_id) for recognition_id in ids])


def _from_row(row: Any) -> RecognitionRead:
    data = decode_row(row, "images", "params", "timings")
    images = data.pop("images")
    for index, image in enumerate(images):
        image["index"] = index
        image["image_url"] = f"/api/v1/recognitions/{data['id']}/images/{index}"
        image["original_url"] = f"/api/v1/recognitions/{data['id']}/images/{index}?original=true"
    timings = data.pop("timings")
    if data.get("total") is None:  # stored before async batches: always complete
        data["processed"] = data["total"] = len(images)
    if data.get("status", "completed") != "completed":
        data["verdict"] = None
    runtime = data["params"].get("runtime")  # the served one: recognize() resolves auto before storing
    return RecognitionRead(**data, images=images, timings_ms=timings, runtime=runtime if runtime != "auto" else None)
