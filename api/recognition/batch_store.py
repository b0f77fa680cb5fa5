"""SQL of async recognition batches: a queued row (with its staged photos), its progress and its end.

Every status change is compare-and-set (`WHERE status IN ...`): a batch deleted meanwhile changes nothing, and the
caller learns it from the row count."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from api.core.database import Database
from api.recognition.schemas import RecognitionParams

UNFINISHED = ("queued", "running")


class BatchStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert_queued(self, *, key_id: int | None, on_behalf_of: str | None, model_id: int,
                            params: RecognitionParams, total: int, place_files: Callable[[int], None]) -> int:
        """A queued batch: no results yet (the verdict column holds a placeholder until it completes)."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO recognitions (created_at, key_id, on_behalf_of, model_id, params, images, verdict,"
                " timings, status, processed, total, kit_id)"
                " VALUES (?, ?, ?, ?, ?, '[]', 'unchecked', '{}', 'queued', 0, ?, ?)",
                (time.time(), key_id, on_behalf_of, model_id, params.model_dump_json(), total, params.kit_id),
            )
            recognition_id = int(cursor.lastrowid or 0)
            place_files(recognition_id)
        return recognition_id

    async def mark_running(self, recognition_id: int) -> bool:
        return await self._db.execute_rowcount(
            "UPDATE recognitions SET status = 'running' WHERE id = ? AND status = 'queued'", (recognition_id,)) == 1

    async def set_progress(self, recognition_id: int, processed: int) -> bool:
        return await self._db.execute_rowcount(
            "UPDATE recognitions SET processed = ? WHERE id = ? AND status = 'running'",
            (processed, recognition_id)) == 1

    async def complete(self, recognition_id: int, *, images: list[dict[str, Any]], verdict: str,
                       timings_ms: dict[str, float]) -> bool:
        return await self._db.execute_rowcount(
            "UPDATE recognitions SET status = 'completed', images = ?, verdict = ?, timings = ?, processed = total"
            " WHERE id = ? AND status = 'running'",
            (json.dumps(images), verdict, json.dumps(timings_ms), recognition_id)) == 1

    async def fail(self, recognition_id: int, error: str) -> bool:
        return await self._db.execute_rowcount(
            "UPDATE recognitions SET status = 'failed', error = ? WHERE id = ? AND status IN ('queued', 'running')",
            (error, recognition_id)) == 1

    async def fail_unfinished(self, error: str) -> list[int]:
        """At start-up: batches a previous server left queued or running. Returns their ids."""
        rows = await self._db.fetch_all("SELECT id FROM recognitions WHERE status IN ('queued', 'running')")
        ids = [int(row["id"]) for row in rows]
        if ids:
            await self._db.executemany(
                "UPDATE recognitions SET status = 'failed', error = ? WHERE id = ? AND status IN ('queued', 'running')",
                [(error, recognition_id) for recognition_id in ids])
        return ids
