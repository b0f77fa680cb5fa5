"""The one SQLite connection of the server: PRAGMAs, transactions and user_version migrations."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

logger = logging.getLogger(__name__)

# Called inside every transaction of this context just before its COMMIT: how a request's audit row lands in the
# same transaction as the change it records (api/audit/trail.py sets it, once a request is authorized).
before_commit: ContextVar[Callable[[aiosqlite.Connection], Awaitable[None]] | None] = ContextVar(
    "before_commit", default=None)

T = TypeVar("T")
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def load_migrations() -> list[tuple[int, str]]:
    """The packaged migrations as (version, sql), in order."""
    found = []
    for entry in resources.files("api.core.migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [version for version, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migrations must be numbered 1..N without gaps, got {versions}")
    return found


class Database:
    """Single writer connection; a lock keeps multi-statement transactions from interleaving."""

    def __init__(self, connection: aiosqlite.Connection, path: Path | None = None) -> None:
        self._conn = connection
        self._write_lock = asyncio.Lock()
        self.path = path

    @classmethod
    async def open(cls, path: Path, migrations: Sequence[tuple[int, str]] | None = None) -> Database:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        # WAL + synchronous=NORMAL: a crash of the process loses nothing committed; a power loss may lose
        # the last transactions but never corrupts the file.
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=5000"):
            await conn.execute(f"PRAGMA {pragma}")
        db = cls(conn, path)
        try:
            await db.migrate(load_migrations() if migrations is None else migrations)
        except BaseException:
            await conn.close()  # its worker thread is not a daemon: a leaked one keeps the process alive
            raise
        return db

    async def close(self) -> None:
        await self._conn.close()

    async def schema_version(self) -> int:
        row = await self.fetch_one("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def migrate(self, migrations: Sequence[tuple[int, str]]) -> None:
        """Apply every migration newer than the file's user_version, each in its own transaction."""
        current = await self.schema_version()
        for version, sql in migrations:
            if version <= current:
                continue
            logger.info("migrating database to schema version %d", version)
            # SQLite's table-rebuild procedure: foreign keys off around the migration (the pragma is a no-op
            # inside a transaction), checked before the commit, so a rebuilt parent table cascades nothing.
            await self._conn.execute("PRAGMA foreign_keys=OFF")
            try:
                # executescript commits on its own; wrap the script so the bump is atomic with it.
                await self._conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version = {version};")
                broken = await self.fetch_all("PRAGMA foreign_key_check")
                if broken:
                    await self._conn.execute("ROLLBACK")
                    raise RuntimeError(f"migration {version} broke {len(broken)} foreign keys: {[tuple(r) for r in broken[:5]]}")
                await self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    await self._rollback()
                raise
            finally:
                await self._conn.execute("PRAGMA foreign_keys=ON")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE .. COMMIT, rolled back on any exception."""
        async with self._write_lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                if (hook := before_commit.get()) is not None:
                    await hook(self._conn)
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._rollback()
                raise

    async def transact(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work(connection)` inside BEGIN IMMEDIATE .. COMMIT, run whole on SQLite's thread: one round trip for a
        write of many statements (an ingest batch is a claim, 1000 rows and an update), not one per statement.
        `work` is plain sqlite3 code and must not touch the event loop."""
        if before_commit.get() is not None:  # the audit hook is async: its rows land before COMMIT, as elsewhere
            async with self.transaction():
                return await self._on_thread(work)
        async with self._write_lock:
            return await self._on_thread(partial(_atomically, work))

    async def _on_thread(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        # aiosqlite runs every call on its one thread through Connection._execute (private, but how all its own
        # methods get there; the version is pinned and tests/unit/test_database.py covers this use).
        conn = self._conn
        return await conn._execute(lambda: fn(conn._conn))

    async def _rollback(self) -> None:
        try:
            await self._conn.execute("ROLLBACK")
        except sqlite3.OperationalError:  # SQLite already rolled back on its own (disk full, I/O error)
            logger.debug("nothing to roll back", exc_info=True)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write statement in its own transaction; returns lastrowid."""
        async with self.transaction() as conn:
            cursor = await conn.execute(sql, params)
            return cursor.lastrowid or 0

    async def execute_rowcount(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write statement; returns how many rows it changed (compare-and-set checks this)."""
        async with self.transaction() as conn:
            cursor = await conn.execute(sql, params)
            return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        async with self.transaction() as conn:
            await conn.executemany(sql, rows)

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
        # One trip to SQLite's thread; aiosqlite's cursor would take three (execute, fetch, close).
        return await self._on_thread(lambda conn: conn.execute(sql, params).fetchone())

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        return await self._on_thread(lambda conn: conn.execute(sql, params).fetchall())

    async def fetch_value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]

    async def read_tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """A large read on its own read-only connection (WAL: it sees committed data and never waits for the
        writer), in a thread, as plain tuples: the writer connection keeps ingesting meanwhile."""
        if self.path is None:
            return [tuple(row) for row in await self.fetch_all(sql, params)]
        return await asyncio.to_thread(_read_tuples, self.path, sql, params)

    async def integrity_ok(self) -> bool:
        return await self.fetch_value("PRAGMA quick_check") == "ok"


def _atomically(work: Callable[[sqlite3.Connection], T], conn: sqlite3.Connection) -> T:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite may have rolled back on its own (disk full, I/O error)
            conn.execute("ROLLBACK")
        raise
    return result


def _read_tuples(path: Path, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def decode_row(row: Any, *json_columns: str) -> dict[str, Any]:
    """A row as a dict with its JSON text columns parsed (NULL stays None): the one row decoder of every store."""
    data = dict(row)
    for column in json_columns:
        if data[column] is not None:
            data[column] = json.loads(data[column])
    return data
