"""Training metrics: buffered in memory, written in batches (executemany), read by (session, key, step)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from api.core.database import Database
from api.core.pagination import Filters, fetch_page
from api.core.write_buffer import WriteBuffer
from api.training.schemas import MetricPoint

BATCH_PREFIX = "batch/"
# A point sent again for a (session, key, step) replaces the stored one: a resumed run reports its last epoch
# again, and a client that lost its batch ids resends. An upsert, not INSERT OR REPLACE: same result, and 20%
# cheaper per row, because REPLACE deletes before it inserts.
UPSERT_POINT = ("INSERT INTO metrics (session_id, key, step, epoch, value, ts) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (session_id, key, step) DO UPDATE SET epoch = excluded.epoch, value = excluded.value, "
                "ts = excluded.ts")
COLUMN_FIELDS = {"steps": "step", "epochs": "epoch", "values": "value", "ts": "ts"}


class MetricsStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending = WriteBuffer(db, UPSERT_POINT)

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
        return len(await self._pending.flush())

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
        return await fetch_page(self._db, table="metrics", filters=_where(session_id, key, epoch_from, epoch_to),
                                columns="key, step, epoch, value, ts", order_by="key, step", limit=limit,
                                offset=offset, decode=lambda row: MetricPoint(**dict(row)))

    async def columns(self, *, session_id: int, key: str, fields: Sequence[str], epoch_from: int | None,
                      epoch_to: int | None, limit: int, offset: int) -> str:
        """One key's history as parallel JSON arrays (`fields` of steps, epochs, values, ts), as JSON text.

        SQLite builds the arrays itself (json_group_array, numbers to 15 significant digits): no Python object
        per point, so 100k points cost tens of milliseconds, not hundreds."""
        filters = _where(session_id, key, epoch_from, epoch_to)
        clause, params = filters.sql(), filters.params
        columns = [COLUMN_FIELDS[field] for field in fields]
        arrays = ", ".join(f"json_group_array({column})" for column in columns)
        rows = await self._db.read_tuples(
            f"SELECT count(*), {arrays} FROM (SELECT {', '.join(columns)} FROM metrics {clause} "
            "ORDER BY step LIMIT ? OFFSET ?)", [*params, limit, offset])
        count, *texts = rows[0]
        ends_here = count < limit and (count > 0 or offset == 0)  # an empty page past the end tells nothing
        total = offset + count if ends_here else await self._db.fetch_value(
            f"SELECT COUNT(*) FROM metrics {clause}", params)
        body = "".join(f',"{field}":{text}' for field, text in zip(fields, texts, strict=True))
        return f'{{"key":{json.dumps(key)},"total":{int(total)}{body}}}'

    async def epoch_series(self, session_id: int) -> dict[str, list[tuple[int, float]]]:
        """Every per-epoch key with its (epoch, value) points, for charts."""
        rows = await self._db.fetch_all(
            "SELECT key, step, value FROM metrics WHERE session_id = ? AND key NOT GLOB 'batch/*' ORDER BY key, step",
            (session_id,),
        )
        series: dict[str, list[tuple[int, float]]] = {}
        for row in rows:
            series.setdefault(row["key"], []).append((row["step"], row["value"]))
        return series


def _where(session_id: int, key: str | None, epoch_from: int | None, epoch_to: int | None) -> Filters:
    """The filters of a history read: one key, or every per-epoch key; an epoch range."""
    filters = Filters().add("session_id = ?", session_id).add("key = ?", key)
    if key is None:  # GLOB: LIKE would ignore case and leave out a per-epoch key such as Batch/size
        filters.clauses.append("key NOT GLOB 'batch/*'")
    return filters.add("epoch >= ?", epoch_from).add("epoch <= ?", epoch_to)
