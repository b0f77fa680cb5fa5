"""SQL of the `sessions` table; status changes are compare-and-set, their sources taken from states.TRANSITIONS."""

from __future__ import annotations

import json
import time
from typing import Any

from api.core.database import Database, decode_row
from api.core.errors import NotFound
from api.core.pagination import Filters, fetch_page
from api.training.records import SessionRecord
from api.training.schemas import SessionProgress, SessionRead, SessionStatus
from api.training.states import DELETABLE, is_legal, sources_of

_QUEUE_ORDER = "priority DESC, created_at, id"  # the scheduler's start order, and what GET /queue shows
_JSON_COLUMNS = ("config", "latest_metrics", "best_metrics")


def _progress(row: dict[str, Any], now: float) -> SessionProgress:
    elapsed = row["run_seconds"]
    if row["status"] == SessionStatus.running and row["started_at"]:
        elapsed += now - row["started_at"]
    epochs, batches = row["epochs"], row["batches"]
    fraction = (row["batch_index"] / batches) if batches and row["status"] == SessionStatus.running else 0.0
    done = min(float(epochs), row["epoch"] + fraction)
    epoch_time = json.loads(row["latest_metrics"]).get("epoch_time")
    eta = None
    if row["status"] == SessionStatus.running and epoch_time:
        eta = round(max(0.0, (epochs - done) * epoch_time), 1)
    return SessionProgress(
        epoch=row["epoch"], epochs=epochs, batch=row["batch_index"], batches=batches,
        percent=round(100.0 * done / epochs, 1) if epochs else 0.0, elapsed_s=round(elapsed, 1), eta_s=eta,
    )


def session_from_row(row: Any, now: float | None = None) -> SessionRead:
    progress = _progress(dict(row), now or time.time())
    data = decode_row(row, *_JSON_COLUMNS, "error_tail")
    data["stop_requested"] = bool(data["stop_requested"])
    for column in ("run_seconds", "epoch", "epochs", "batch_index", "batches", "checkpoint", "best_fitness"):
        data.pop(column)
    return SessionRead(**data, progress=progress)


class SessionStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(self, *, queued_cap: int | None = None, **values: Any) -> int | None:
        """The new session's id; None when its creator already has `queued_cap` queued sessions (checked in the
        same statement, so parallel requests cannot overshoot the cap)."""
        for column in _JSON_COLUMNS:
            if column in values:
                values[column] = json.dumps(values[column])
        columns = ", ".join(values)
        marks = ", ".join("?" * len(values))
        params = list(values.values())
        if queued_cap is None:
            return await self._db.execute(f"INSERT INTO sessions ({columns}) VALUES ({marks})", params)
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                f"INSERT INTO sessions ({columns}) SELECT {marks} WHERE (SELECT COUNT(*) FROM sessions"
                " WHERE created_by IS ? AND status = 'queued') < ?", [*params, values.get("created_by"), queued_cap])
            return cursor.lastrowid if cursor.rowcount else None

    async def row(self, session_id: int) -> dict[str, Any]:
        row = await self._db.fetch_one("SELECT * FROM sessions WHERE id = ?", (session_id,))
        if row is None:
            raise NotFound(f"Session {session_id} does not exist.", code="session_not_found", details={"id": session_id})
        return dict(row)

    async def get(self, session_id: int) -> SessionRead:
        return session_from_row(await self.row(session_id))

    async def record(self, session_id: int) -> SessionRecord:
        return SessionRecord.from_row(await self.row(session_id))

    async def list(
        self, *, statuses: list[SessionStatus] | None, limit: int, offset: int, as_of: int | None = None
    ) -> tuple[list[SessionRead], int]:
        now = time.time()
        return await fetch_page(self._db, table="sessions", filters=Filters().add_in("status", statuses),
                                order_by="id DESC", limit=limit, offset=offset, as_of=as_of,
                                decode=lambda row: session_from_row(row, now))

    async def queued_sessions(self) -> list[SessionRead]:
        """What GET /queue shows, in start order, in one query (it was one query per session)."""
        rows = await self._db.fetch_all(f"SELECT * FROM sessions WHERE status = 'queued' ORDER BY {_QUEUE_ORDER}")
        now = time.time()
        return [session_from_row(row, now) for row in rows]

    async def queued_in_order(self) -> list[SessionRecord]:
        rows = await self._db.fetch_all(
            f"SELECT * FROM sessions WHERE status = 'queued' ORDER BY {_QUEUE_ORDER}"
        )
        return [SessionRecord.from_row(row) for row in rows]

    async def transition(
        self, session_id: int, to_status: SessionStatus, *, only_from: tuple[SessionStatus, ...] | None = None,
        **values: Any,
    ) -> bool:
        """Compare-and-set: True when the session was in a legal source of `to_status` (narrowed by `only_from`)
        and now is in `to_status`. Asking for a transition the table forbids is a programming error."""
        sources = only_from or sources_of(to_status)
        illegal = [source for source in sources if not is_legal(source, to_status)]
        if illegal or not sources:
            raise ValueError(f"no transition {illegal or 'from anywhere'} -> {to_status.value} in states.TRANSITIONS")
        for column in ("latest_metrics", "best_metrics", "error_tail"):
            if column in values and not isinstance(values[column], str | None):
                values[column] = json.dumps(values[column])
        assignments = ", ".join(f"{column} = ?" for column in ["status", *values])
        marks = ",".join("?" * len(sources))
        changed = await self._db.execute_rowcount(
            f"UPDATE sessions SET {assignments} WHERE id = ? AND status IN ({marks})",
            [to_status.value, *values.values(), session_id, *[s.value for s in sources]],
        )
        return changed == 1

    async def update(self, session_id: int, **values: Any) -> None:
        for column in ("latest_metrics", "best_metrics", "config"):
            if column in values and not isinstance(values[column], str):
                values[column] = json.dumps(values[column])
        assignments = ", ".join(f"{column} = ?" for column in values)
        await self._db.execute(f"UPDATE sessions SET {assignments} WHERE id = ?", [*values.values(), session_id])

    async def ids_in(self, status: SessionStatus) -> list[int]:
        """Sessions this server runs (not external ones, whose runs live elsewhere) in `status`."""
        rows = await self._db.fetch_all("SELECT id FROM sessions WHERE status = ? AND kind != 'external'",
                                        (status.value,))
        return [row["id"] for row in rows]

    async def delete_unless_running(self, session_id: int) -> bool:
        """Delete in one statement, so a session cannot start between the check and the delete."""
        marks = ",".join("?" * len(DELETABLE))
        return await self._db.execute_rowcount(
            f"DELETE FROM sessions WHERE id = ? AND status IN ({marks})", [session_id, *[s.value for s in DELETABLE]]
        ) == 1
