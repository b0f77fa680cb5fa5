"""Session log lines: buffered and written in batches; read by level, time, or after an id (for follow)."""

from __future__ import annotations

from api.core.database import Database
from api.core.pagination import Filters, fetch_page
from api.core.write_buffer import WriteBuffer
from api.training.schemas import LogLine

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
        as_of: int | None = None,
    ) -> tuple[list[LogLine], int]:
        filters = Filters().add("session_id = ?", session_id).add_in("level", levels_from(level) if level else None)
        filters.add("ts >= ?", since).add("id > ?", after_id)
        return await fetch_page(self._db, table="logs", filters=filters, columns="id, ts, level, message",
                                order_by="id DESC" if newest_first else "id ASC", limit=limit, offset=offset,
                                as_of=as_of,
                                decode=lambda row: LogLine(**dict(row)))

    async def tail(self, session_id: int, lines: int) -> list[str]:
        items, _ = await self.query(session_id=session_id, limit=lines, newest_first=True)
        return [item.message for item in reversed(items)]
