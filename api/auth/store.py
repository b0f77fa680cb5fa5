"""SQL of `api_keys` and `auth_attempts`. Attempts are buffered and written in batches (a commit per request
would cost more than the request)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from api.auth.schemas import ApiKeyRead, AuthAttemptRead, Role
from api.core.database import Database
from api.core.pagination import Filters, fetch_page
from api.core.write_buffer import WriteBuffer

_KEY_COLUMNS = "id, name, role, prefix, source, created_at, created_by, revoked_at, last_used_at"

AttemptRow = Sequence[Any]  # (ts, key_id, client, method, path, outcome, count)


def _key_from_row(row: Any) -> ApiKeyRead:
    return ApiKeyRead(**{name: row[name] for name in _KEY_COLUMNS.split(", ")})


class KeyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def all_by_hash(self) -> dict[str, ApiKeyRead]:
        rows = await self._db.fetch_all(f"SELECT {_KEY_COLUMNS}, key_hash FROM api_keys")
        return {row["key_hash"]: _key_from_row(row) for row in rows}

    async def insert(self, *, name: str, role: Role, key_hash: str, prefix: str, source: str,
                     created_by: int | None) -> int:
        return await self._db.execute(
            "INSERT INTO api_keys (name, role, key_hash, prefix, source, created_at, created_by)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", (name, role.value, key_hash, prefix, source, time.time(), created_by))

    async def revoke(self, key_id: int) -> bool:
        return await self._db.execute_rowcount(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", (time.time(), key_id)) == 1

    async def touch(self, last_used: dict[int, float]) -> None:
        await self._db.executemany("UPDATE api_keys SET last_used_at = ? WHERE id = ?",
                                   [(ts, key_id) for key_id, ts in last_used.items()])


class AttemptStore:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending = WriteBuffer(db, "INSERT INTO auth_attempts (ts, key_id, client, method, path, outcome, count)"
                                        " VALUES (?, ?, ?, ?, ?, ?, ?)")

    def add(self, rows: Iterable[AttemptRow]) -> None:
        self._pending.extend(rows)

    async def flush(self) -> list[AttemptRow]:
        return await self._pending.flush()

    async def page(self, *, outcome: str | None, limit: int, offset: int,
                   as_of: int | None = None) -> tuple[list[AuthAttemptRead], int]:
        return await fetch_page(self._db, table="auth_attempts", filters=Filters().add("outcome = ?", outcome),
                                order_by="id DESC", limit=limit, offset=offset, as_of=as_of,
                                decode=lambda row: AuthAttemptRead(**dict(row)))

    async def prune(self, older_than_s: float) -> None:
        await self._db.execute("DELETE FROM auth_attempts WHERE ts < ?", (time.time() - older_than_s,))
