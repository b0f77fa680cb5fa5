"""SQL of the `videos` table. A file and its row are placed in one transaction; a delete checks, in the same
transaction, that no stream plays the video (a stream's `source` is the text `video:<id>`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from api.core.database import Database, decode_row
from api.core.errors import NotFound
from api.core.pagination import Filters, fetch_page
from api.streams.video_probe import VideoInfo
from api.streams.videos_schemas import VideoRead, video_source


def _video_from_row(row: Any) -> VideoRead:
    return VideoRead(**decode_row(row))


class VideoStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(self, info: VideoInfo, *, name: str, filename: str, container: str, size_bytes: int,
                     sha256: str, created_by: int | None, place_file: Callable[[int], object]) -> int:
        """The row, and `place_file(id)` (which renames the file into place) in the same transaction."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO videos (name, filename, container, size_bytes, sha256, width, height, fps, frame_count,"
                " duration_s, codec, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (name, filename, container, size_bytes, sha256, info.width, info.height, info.fps, info.frame_count,
                 info.duration_s, info.codec, time.time(), created_by))
            video_id = int(cursor.lastrowid or 0)
            place_file(video_id)
        return video_id

    async def get(self, video_id: int) -> VideoRead:
        row = await self._db.fetch_one("SELECT * FROM videos WHERE id = ?", (video_id,))
        if row is None:
            raise NotFound(f"Video {video_id} does not exist.", code="video_not_found", details={"id": video_id})
        return _video_from_row(row)

    async def list(self, *, limit: int, offset: int, as_of: int | None = None) -> tuple[list[VideoRead], int]:
        return await fetch_page(self._db, table="videos", filters=Filters(), order_by="id DESC", limit=limit,
                                offset=offset, as_of=as_of, decode=_video_from_row)

    async def delete_unless_in_use(self, video_id: int) -> list[int]:
        """Delete the row unless streams play it; returns their ids (empty: it was deleted)."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute("SELECT id FROM streams WHERE source = ? ORDER BY id",
                                        (video_source(video_id),))
            users = [int(row[0]) for row in await cursor.fetchall()]
            if not users:
                await conn.execute("DELETE FROM videos WHERE id = ?", (video_id,))
            return users
