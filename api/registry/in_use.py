"""'Is it in use?' and 'delete it' as one transaction, so no session can claim a dataset or model in between."""

from __future__ import annotations

from typing import Literal

from api.core.database import Database

_ACTIVE = "('queued', 'running')"


async def delete_unless_in_use(db: Database, *, table: Literal["datasets", "models"], row_id: int,
                               session_column: Literal["dataset_id", "base_model_id"],
                               stream_column: Literal["model_id"] | None = None) -> int:
    """Delete the row unless queued or running sessions (or, with `stream_column`, stream definitions) use it;
    returns how many do (0: it was deleted)."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            f"SELECT COUNT(*) FROM sessions WHERE {session_column} = ? AND status IN {_ACTIVE}", (row_id,))
        (in_use,) = await cursor.fetchone() or (0,)
        if stream_column:
            cursor = await conn.execute(f"SELECT COUNT(*) FROM streams WHERE {stream_column} = ?", (row_id,))
            in_use += ((await cursor.fetchone()) or (0,))[0]
        if not in_use:
            await conn.execute(f"DELETE FROM {table} WHERE id = ?", (row_id,))
        return int(in_use)
