"""Batched writes lose nothing and double nothing, however a flush ends (done, failed, cancelled)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from api.core.database import Database
from api.core.write_buffer import WriteBuffer

SCHEMA = [(1, "CREATE TABLE t (n INTEGER NOT NULL, CHECK (n >= 0));")]


async def count(db: Database) -> int:
    return int(await db.fetch_value("SELECT COUNT(*) FROM t"))


@pytest.mark.parametrize("switches", [0, 1, 2, 3, 5, 8, 13])
async def test_a_cancelled_flush_leaves_each_row_written_once_or_buffered(tmp_path: Path, switches: int) -> None:
    db = await Database.open(tmp_path / "t.db", migrations=SCHEMA)
    try:
        buffer = WriteBuffer(db, "INSERT INTO t (n) VALUES (?)")
        buffer.extend((n,) for n in range(20_000))
        flush = asyncio.create_task(buffer.flush())
        for _ in range(switches):  # cancel at a different point of the write each time
            await asyncio.sleep(0)
        buffer.add((20_000,))  # a row that arrives during the flush
        flush.cancel()
        with pytest.raises(asyncio.CancelledError):
            await flush
        assert await count(db) + len(buffer) == 20_001
        await buffer.flush()
        assert await count(db) == 20_001 and len(buffer) == 0
        assert await db.fetch_value("SELECT COUNT(DISTINCT n) FROM t") == 20_001
    finally:
        await db.close()


async def test_a_failed_write_keeps_its_rows_in_order_before_newer_ones(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "t.db", migrations=SCHEMA)
    try:
        buffer = WriteBuffer(db, "INSERT INTO t (n) VALUES (?)")
        buffer.extend([(1,), (-1,)])  # the CHECK fails: the whole batch rolls back
        with pytest.raises(Exception, match="CHECK"):
            await buffer.flush()
        assert await count(db) == 0 and len(buffer) == 2
        buffer.add((3,))
        buffer._rows.remove((-1,))  # the operator fixes the bad row; order of the rest is kept
        assert [row[0] for row in await buffer.flush()] == [1, 3]
    finally:
        await db.close()
