"""Session log lines: buffered and written in batches; read by level, time, or after an id (for follow)."""

from __future__ import annotations

from typing import Any

from api.database import Database
from api.models.sessions import LogLine
from api.services.write_buffer import WriteBuffer

_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


def levels_from(level: str) -> tuple[str, ...]:
    """`level` and everything more severe."""
    return _LEVELS[_LEVELS.index(level) :]


class LogStore:
    def __init__(self, db: Database, *, max_line: int = 4000) -> None:
        self._db = db
        self._max_line = max_line
        self._pending = WriteBuffer(db, "INSERT INTO logs (session_id, ts, level, message) VALUES (?, ?, ?, ?)")

    def append(self, *, session_id: int, ts: float, level: str, message: str) -> None:
        level = level if level in _LEVELS else "INFO"
        self._pending.add((session_id, ts, level, message[: self._max_line]))

    async def flush(self) -> int:
        return len(await self._pending.flush())

    async def query(
        self,
        *,
        session_id: int,
        level: str | None = None,
        since: float | None = None,
        after_id: int | None = None,
        limit: int = 100,
        offset: int = 0,
        newest_first: bool = False,
    ) -> tuple[list[LogLine], int]:
        where = ["session_id = ?"]
        params: list[Any] = [session_id]
        if level:
            allowed = levels_from(level)
            where.append(f"level IN ({','.join('?' * len(allowed))})")
            params.extend(allowed)
        if since is not None:
            where.append("ts >= ?")
            params.append(since)
        if after_id is not None:
            where.append("id > ?")
            params.append(after_id)
        clause = " AND ".join(where)
        order = "DESC" if newest_first else "ASC"
        total = await self._db.fetch_value(f"SELECT COUNT(*) FROM logs WHERE {clause}", params)
        rows = await self._db.fetch_all(
            f"SELECT id, ts, level, message FROM logs WHERE {clause} ORDER BY id {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [LogLine(**dict(row)) for row in rows], int(total)

    async def tail(self, session_id: int, lines: int) -> list[str]:
        items, _ = await self.query(session_id=session_id, limit=lines, newest_first=True)
        return [item.message for item in reversed(items)]
