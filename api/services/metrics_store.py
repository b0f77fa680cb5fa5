"""Training metrics: buffered in memory, written in batches (executemany), read by (session, key, step)."""

from __future__ import annotations

import time
from typing import Any

from api.database import Database
from api.models.sessions import MetricPoint

BATCH_PREFIX = "batch/"


class MetricsStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: list[tuple[int, str, int, int, float, float]] = []

    def add(self, *, session_id: int, epoch: int, step: int, values: dict[str, float], prefix: str = "") -> None:
        ts = time.time()
        self._pending.extend((session_id, prefix + key, step, epoch, value, ts) for key, value in values.items())

    def add_epoch(self, *, session_id: int, epoch: int, values: dict[str, float]) -> None:
        self.add(session_id=session_id, epoch=epoch, step=epoch, values=values)

    def add_batch(self, *, session_id: int, epoch: int, step: int, values: dict[str, float]) -> None:
        self.add(session_id=session_id, epoch=epoch, step=step, values=values, prefix=BATCH_PREFIX)

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush(self) -> int:
        if not self._pending:
            return 0
        batch, self._pending = self._pending, []
        # REPLACE: a resumed run reports its last epoch again; the newer value wins.
        await self._db.executemany(
            "INSERT OR REPLACE INTO metrics (session_id, key, step, epoch, value, ts) VALUES (?, ?, ?, ?, ?, ?)", batch
        )
        return len(batch)

    async def history(
        self,
        *,
        session_id: int,
        key: str | None,
        epoch_from: int | None,
        epoch_to: int | None,
        limit: int,
        offset: int,
    ) -> tuple[list[MetricPoint], int]:
        where = ["session_id = ?"]
        params: list[Any] = [session_id]
        if key is not None:
            where.append("key = ?")
            params.append(key)
        else:
            where.append("key NOT LIKE 'batch/%'")
        if epoch_from is not None:
            where.append("epoch >= ?")
            params.append(epoch_from)
        if epoch_to is not None:
            where.append("epoch <= ?")
            params.append(epoch_to)
        clause = " AND ".join(where)
        total = await self._db.fetch_value(f"SELECT COUNT(*) FROM metrics WHERE {clause}", params)
        rows = await self._db.fetch_all(
            f"SELECT key, step, epoch, value, ts FROM metrics WHERE {clause} ORDER BY key, step LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [MetricPoint(**dict(row)) for row in rows], int(total)

    async def epoch_series(self, session_id: int) -> dict[str, list[tuple[int, float]]]:
        """Every per-epoch key with its (epoch, value) points, for charts."""
        rows = await self._db.fetch_all(
            "SELECT key, step, value FROM metrics WHERE session_id = ? AND key NOT LIKE 'batch/%' ORDER BY key, step",
            (session_id,),
        )
        series: dict[str, list[tuple[int, float]]] = {}
        for row in rows:
            series.setdefault(row["key"], []).append((row["step"], row["value"]))
        return series
