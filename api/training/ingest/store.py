"""SQL of the ingest path: a batch and its claim on its batch_id land in one transaction, or neither does."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from functools import partial
from typing import Any

from api.core.database import Database
from api.training.ingest.schemas import ArtifactRead, LogLineIn, MetricPointIn
from api.training.metrics_store import BATCH_PREFIX, UPSERT_POINT


def _claim(conn: sqlite3.Connection, session_id: int, batch_id: str | None, kind: str) -> bool:
    """False when this batch_id was stored before (a retry): the caller then stores nothing."""
    if batch_id is None:
        return True
    cursor = conn.execute("INSERT OR IGNORE INTO ingest_batches (session_id, batch_id, kind, created_at) "
                          "VALUES (?, ?, ?, ?)", (session_id, batch_id, kind, time.time()))
    return cursor.rowcount == 1


def _write_metrics(session_id: int, batch_id: str | None, points: Sequence[MetricPointIn], default_epoch: int,
                   max_latest: int, now: float, conn: sqlite3.Connection) -> dict[str, tuple[int, float]] | None:
    """The whole batch on SQLite's thread, in the caller's transaction (Database.transact)."""
    if not _claim(conn, session_id, batch_id, "metrics"):
        return None
    unstepped = sorted({point["key"] for point in points if point.get("step") is None and point.get("epoch") is None})
    next_step: dict[str, int] = {}
    if unstepped:
        marks = ",".join("?" * len(unstepped))
        next_step = {key: step + 1 for key, step in conn.execute(
            f"SELECT key, MAX(step) FROM metrics WHERE session_id = ? AND key IN ({marks}) GROUP BY key",
            [session_id, *unstepped])}
    rows, newest = [], {}
    for point in points:
        key, value, epoch = point["key"], point["value"], point.get("epoch")
        step = point.get("step")
        if step is None:
            step = epoch
        if step is None:
            step = next_step.get(key, 0)
            next_step[key] = step + 1
        rows.append((session_id, key, step, default_epoch if epoch is None else epoch, value, point.get("ts") or now))
        if key not in newest or step >= newest[key][0]:
            newest[key] = (step, value)
    conn.executemany(UPSERT_POINT, rows)
    fresh = {key: value for key, (_step, value) in newest.items() if not key.startswith(BATCH_PREFIX)}
    if fresh:  # read here, under the write lock: two batches at once must not drop each other's keys
        row = conn.execute("SELECT latest_metrics FROM sessions WHERE id = ?", (session_id,)).fetchone()
        merged = {**json.loads(row[0] if row else "{}"), **fresh}
        if len(merged) > max_latest:  # the newest keys win; the history keeps every point anyway
            merged = dict(list(merged.items())[-max_latest:])
        conn.execute("UPDATE sessions SET latest_metrics = ? WHERE id = ?", (json.dumps(merged), session_id))
    return newest


class IngestStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_metrics(self, session_id: int, batch_id: str | None, points: Sequence[MetricPointIn],
                          default_epoch: int, max_latest: int = 200) -> dict[str, tuple[int, float]] | None:
        """Store the points, and each per-epoch key's newest value into the session's `latest` metrics (at most
        `max_latest` keys), in one transaction; None for a retried batch. Returns each key's newest (step, value)."""
        return await self._db.transact(partial(_write_metrics, session_id, batch_id, points, default_epoch,
                                               max_latest, time.time()))

    async def add_logs(self, session_id: int, batch_id: str | None, lines: Sequence[LogLineIn]) -> bool:
        """False for a retried batch (nothing stored again)."""
        now = time.time()
        rows = [(session_id, line.ts or now, line.level, line.message) for line in lines]

        def write(conn: sqlite3.Connection) -> bool:
            if not _claim(conn, session_id, batch_id, "logs"):
                return False
            conn.executemany("INSERT INTO logs (session_id, ts, level, message) VALUES (?, ?, ?, ?)", rows)
            return True
        return await self._db.transact(write)

    async def add_artifact(self, *, session_id: int, name: str, role: str, path: str, size_bytes: int,
                           sha256: str) -> ArtifactRead:
        """Insert or replace the session's artifact of this name (a checkpoint is re-sent every epoch)."""
        values: dict[str, Any] = {"session_id": session_id, "name": name, "role": role, "path": path,
                                  "size_bytes": size_bytes, "sha256": sha256, "created_at": time.time()}
        await self._db.execute(
            "INSERT INTO session_artifacts (session_id, name, role, path, size_bytes, sha256, created_at) "
            "VALUES (:session_id, :name, :role, :path, :size_bytes, :sha256, :created_at) "
            "ON CONFLICT (session_id, name) DO UPDATE SET role = excluded.role, path = excluded.path, "
            "size_bytes = excluded.size_bytes, sha256 = excluded.sha256, created_at = excluded.created_at", values)
        row = await self._db.fetch_one("SELECT * FROM session_artifacts WHERE session_id = ? AND name = ?",
                                       (session_id, name))
        return _artifact(row)

    async def silent_external(self, since: float) -> list[int]:
        """Running external sessions that reported no metric or log line (nor started) after `since`."""
        rows = await self._db.fetch_all(
            "SELECT id FROM sessions s WHERE kind = 'external' AND status = 'running' AND started_at < ? "
            "AND NOT EXISTS (SELECT 1 FROM metrics m WHERE m.session_id = s.id AND m.ts >= ?) "
            "AND NOT EXISTS (SELECT 1 FROM logs l WHERE l.session_id = s.id AND l.ts >= ?)", (since, since, since))
        return [row[0] for row in rows]

    async def artifacts(self, session_id: int) -> list[ArtifactRead]:
        rows = await self._db.fetch_all("SELECT * FROM session_artifacts WHERE session_id = ? ORDER BY id", (session_id,))
        return [_artifact(row) for row in rows]

    async def artifact_path(self, session_id: int, artifact_id: int) -> tuple[ArtifactRead, str] | None:
        row = await self._db.fetch_one("SELECT * FROM session_artifacts WHERE session_id = ? AND id = ?",
                                       (session_id, artifact_id))
        return None if row is None else (_artifact(row), row["path"])


class TokenStore:
    """The session_tokens table (hashes only)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def all(self) -> list[tuple[str, int, int, float]]:
        rows = await self._db.fetch_all("SELECT token_hash, session_id, attempt, expires_at FROM session_tokens")
        return [(row[0], row[1], row[2], row[3]) for row in rows]

    async def insert(self, token_hash: str, session_id: int, attempt: int, expires_at: float) -> None:
        await self._db.execute("INSERT INTO session_tokens (token_hash, session_id, attempt, created_at, expires_at) "
                               "VALUES (?, ?, ?, ?, ?)", (token_hash, session_id, attempt, time.time(), expires_at))

    async def expire(self, session_id: int, now: float) -> None:
        await self._db.execute("UPDATE session_tokens SET expires_at = MIN(expires_at, ?) WHERE session_id = ?",
                               (now, session_id))


def _artifact(row: Any) -> ArtifactRead:
    data = dict(row)
    data.pop("path")
    return ArtifactRead(**data)
