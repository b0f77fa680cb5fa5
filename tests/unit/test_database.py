"""Migrations: a fresh file gets every version; an older file is upgraded in place, data kept. Transactions that
SQLite ends on its own keep their error; a whole write on SQLite's thread commits or leaves nothing; a full disk is
recognised as one."""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Callable
from pathlib import Path

import aiosqlite
import pytest

from api.core.database import Database, before_commit, load_migrations
from api.core.errors import disk_full


async def test_fresh_database_is_at_latest_version_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "server.db")
    try:
        assert await db.schema_version() == len(load_migrations())
        assert await db.fetch_value("PRAGMA journal_mode") == "wal"
        assert await db.fetch_value("PRAGMA foreign_keys") == 1
        assert await db.fetch_value("PRAGMA busy_timeout") == 5000
        assert await db.integrity_ok()
    finally:
        await db.close()


async def test_older_file_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "server.db"
    all_migrations = load_migrations()
    old = await Database.open(path, migrations=all_migrations[:1])
    await old.execute(
        "INSERT INTO api_keys (name, role, key_hash, prefix, created_at) VALUES ('old', 'admin', 'h', 'tk_', 1.0)"
    )
    assert await old.schema_version() == 1
    await old.close()

    new = await Database.open(path)
    try:
        assert await new.schema_version() == len(all_migrations)
        assert await new.fetch_value("SELECT name FROM api_keys") == "old"
    finally:
        await new.close()


async def test_rebuilding_the_sessions_table_keeps_what_hangs_off_it(tmp_path: Path) -> None:
    """Migration 12 rebuilds `sessions` (a CHECK changed): with foreign keys on, dropping the old table would have
    cascaded into metrics, logs and evaluations. The runner turns them off around a migration."""
    path = tmp_path / "server.db"
    all_migrations = load_migrations()
    old = await Database.open(path, migrations=all_migrations[:11])
    session_id = await old.execute(
        "INSERT INTO sessions (name, task, model, config, status, created_at, epochs, kind) "
        "VALUES ('s', 'detect', 'yolov8n.yaml', '{}', 'completed', 1.0, 1, 'evaluate')")
    await old.execute("INSERT INTO metrics (session_id, key, step, epoch, value, ts) VALUES (?, 'k', 1, 1, 0.5, 1.0)",
                      (session_id,))
    await old.execute("INSERT INTO logs (session_id, ts, level, message) VALUES (?, 1.0, 'INFO', 'hello')", (session_id,))
    await old.execute("INSERT INTO evaluations (session_id, split, conf, iou, imgsz, created_at) "
                      "VALUES (?, 'val', 0.25, 0.7, 64, 1.0)", (session_id,))
    deleted = await old.execute("INSERT INTO sessions (name, task, model, config, status, created_at, epochs) "
                                "VALUES ('gone', 'detect', 'm', '{}', 'completed', 2.0, 1)")
    await old.execute("DELETE FROM sessions WHERE id = ?", (deleted,))
    await old.close()

    new = await Database.open(path)
    try:
        for table in ("metrics", "logs", "evaluations"):
            assert await new.fetch_value(f"SELECT COUNT(*) FROM {table} WHERE session_id = ?", (session_id,)) == 1
        assert await new.fetch_value("SELECT kind FROM sessions WHERE id = ?", (session_id,)) == "evaluate"
        assert await new.fetch_value("PRAGMA foreign_keys") == 1
        assert await new.fetch_all("PRAGMA foreign_key_check") == []
        fresh = await new.execute("INSERT INTO sessions (name, task, model, config, status, created_at, epochs) "
                                  "VALUES ('new', 'detect', 'm', '{}', 'queued', 3.0, 1)")
        assert fresh > deleted  # a deleted session's id is never given again (its run dir, audit rows, the bot)
        await new.execute("DELETE FROM sessions WHERE id = ?", (session_id,))  # the cascade still works after
        assert await new.fetch_value("SELECT COUNT(*) FROM metrics") == 0
    finally:
        await new.close()


async def test_a_failing_migration_leaves_the_file_at_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "server.db"
    migrations = [(1, "CREATE TABLE a (x INTEGER);"), (2, "CREATE TABLE b (y INTEGER); INSERT INTO nope VALUES (1);")]
    try:
        await Database.open(path, migrations=migrations)
    except sqlite3.OperationalError:
        pass
    else:
        raise AssertionError("the broken migration should have failed")
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "a" in tables and "b" not in tables


async def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "server.db")
    try:
        try:
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO api_keys (name, role, key_hash, prefix, created_at) VALUES ('x','admin','h','p',1)"
                )
                raise ValueError("boom")
        except ValueError:
            pass
        assert await db.fetch_value("SELECT COUNT(*) FROM api_keys") == 0
    finally:
        await db.close()


async def test_an_error_after_sqlite_rolled_back_on_its_own_surfaces_unmasked(tmp_path: Path) -> None:
    # SQLite ends the transaction itself on SQLITE_FULL (a full disk), as INSERT OR ROLLBACK does here; a second
    # ROLLBACK then fails with "no transaction is active", which used to hide the error that mattered.
    db = await Database.open(tmp_path / "x.db", migrations=[(1, "CREATE TABLE t (x INTEGER UNIQUE);")])
    try:
        await db.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(sqlite3.IntegrityError):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO t VALUES (2)")
                await conn.execute("INSERT OR ROLLBACK INTO t VALUES (1)")
        assert await db.fetch_value("SELECT COUNT(*) FROM t") == 1
        await db.execute("INSERT INTO t VALUES (3)")  # and the connection goes on
        assert await db.fetch_value("SELECT COUNT(*) FROM t") == 2
    finally:
        await db.close()


async def test_transact_runs_a_write_whole_or_not_at_all(tmp_path: Path) -> None:
    """`transact` runs plain sqlite3 code on SQLite's thread in one transaction: committed when it returns,
    rolled back whole when it raises, including after SQLite ended the transaction itself; an audit hook's
    statements land in the same transaction."""
    db = await Database.open(tmp_path / "x.db", migrations=[(1, "CREATE TABLE t (x INTEGER UNIQUE);")])

    def insert(*values: int) -> Callable[[sqlite3.Connection], int]:
        def work(conn: sqlite3.Connection) -> int:
            assert conn.in_transaction
            conn.executemany("INSERT INTO t VALUES (?)", [(value,) for value in values])
            return len(values)
        return work

    try:
        assert await db.transact(insert(1, 2)) == 2
        with pytest.raises(sqlite3.IntegrityError):
            await db.transact(insert(3, 1))  # 3 goes in, then 1 clashes: 3 must not stay
        assert [row[0] for row in await db.fetch_all("SELECT x FROM t ORDER BY x")] == [1, 2]

        def rolled_back_by_sqlite(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO t VALUES (4)")
            conn.execute("INSERT OR ROLLBACK INTO t VALUES (1)")
        with pytest.raises(sqlite3.IntegrityError):
            await db.transact(rolled_back_by_sqlite)
        assert await db.fetch_value("SELECT COUNT(*) FROM t") == 2

        async def hook(conn: aiosqlite.Connection) -> None:
            await conn.execute("INSERT INTO t VALUES (100)")
        token = before_commit.set(hook)
        try:
            await db.transact(insert(5))
            with pytest.raises(sqlite3.IntegrityError):
                await db.transact(insert(1))  # the hook never runs: nothing of this transaction stays
        finally:
            before_commit.reset(token)
        assert [row[0] for row in await db.fetch_all("SELECT x FROM t ORDER BY x")] == [1, 2, 5, 100]
        assert (await db.fetch_one("SELECT x FROM t WHERE x = ?", (5,)))["x"] == 5  # rows by name, one trip
        assert await db.fetch_one("SELECT x FROM t WHERE x = ?", (6,)) is None
    finally:
        await db.close()


def test_disk_full_recognises_a_full_disk_and_nothing_else() -> None:
    full_sqlite = sqlite3.OperationalError("database or disk is full")
    full_sqlite.sqlite_errorcode = sqlite3.SQLITE_FULL  # type: ignore[attr-defined]
    for exc in (OSError(errno.ENOSPC, "No space left on device"), OSError(errno.EDQUOT, "Quota"), full_sqlite):
        error = disk_full(exc)
        assert error is not None and error.status_code == 503 and error.code == "disk_full"
    for exc in (OSError(errno.EACCES, "denied"), sqlite3.OperationalError("database is locked"), ValueError()):
        assert disk_full(exc) is None
