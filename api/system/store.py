"""SQL of `system_samples`: one JSON sample per timestamp."""

from __future__ import annotations

import json
import time

from api.core.database import Database
from api.core.pagination import Filters, fetch_page
from api.system.schemas import SystemSample


class SampleStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, sample: SystemSample) -> None:
        await self._db.execute("INSERT OR REPLACE INTO system_samples (ts, sample) VALUES (?, ?)",
                               (sample.ts, sample.model_dump_json()))

    async def since(self, since: float, *, limit: int, offset: int) -> tuple[list[SystemSample], int]:
        return await fetch_page(self._db, table="system_samples", filters=Filters().add("ts >= ?", since),
                                columns="sample", order_by="ts", limit=limit, offset=offset,
                                decode=lambda row: SystemSample(**json.loads(row["sample"])))

    async def prune(self, older_than_s: float) -> None:
        await self._db.execute("DELETE FROM system_samples WHERE ts < ?", (time.time() - older_than_s,))
