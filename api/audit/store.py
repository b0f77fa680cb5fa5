"""SQL of `audit_log`."""

from __future__ import annotations

import aiosqlite

from api.audit.schemas import AuditEntry, AuditQuery, PendingEntry
from api.core.database import Database, before_commit
from api.core.pagination import Filters, fetch_page

_INSERT = ("INSERT INTO audit_log (ts, key_id, on_behalf_of, client, method, path, action, target, outcome, status)"
           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


class AuditStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    def write_with_next_commit(entry: PendingEntry) -> None:
        """The next transaction that commits in this context (the request's change) carries the entry's row."""

        async def write(conn: aiosqlite.Connection) -> None:
            if entry.row_id is not None or entry.closed:
                return
            if entry.creates:  # the change inserted the row this request created: name it
                async with conn.execute("SELECT last_insert_rowid()") as cursor:
                    row = await cursor.fetchone()
                entry.target, entry.creates = f"{entry.target}/{row[0] if row else 0}", False
            cursor = await conn.execute(_INSERT, entry.values("ok", None))
            entry.row_id = cursor.lastrowid

        before_commit.set(write)

    async def insert(self, values: tuple[object, ...]) -> int:
        return await self._db.execute(_INSERT, values)

    async def settle(self, entry_id: int, *, outcome: str, status: int) -> None:
        await self._db.execute("UPDATE audit_log SET outcome = ?, status = ? WHERE id = ?", (outcome, status, entry_id))

    async def page(self, query: AuditQuery, *, limit: int, offset: int) -> tuple[list[AuditEntry], int]:
        filters = (Filters().add("key_id = ?", query.key_id).add("action = ?", query.action)
                   .add("target = ?", query.target).add("ts >= ?", query.since).add("ts < ?", query.until))
        return await fetch_page(self._db, table="audit_log", filters=filters, order_by="id DESC", limit=limit,
                                offset=offset, decode=lambda row: AuditEntry(**dict(row)))

    async def prune(self, *, older_than: float) -> int:
        return await self._db.execute_rowcount("DELETE FROM audit_log WHERE ts < ?", (older_than,))
