"""Recorded videos: files under data/videos (<id>.<container>) and rows in the `videos` table. Streams play them as
the source `video:<id>`; a video a stream plays cannot be deleted."""

from __future__ import annotations

from pathlib import Path, PurePath

from api.auth.schemas import ApiKeyRead
from api.auth.service import require_owner
from api.core.errors import Conflict, NotFound
from api.core.isolated import Limits
from api.core.pools import Pools
from api.core.text import printable
from api.core.uploads import AsyncReadable, stage_upload
from api.streams.video_probe import CONTAINERS, PROBE_LIMITS, check_magic, container_of, probe_video
from api.streams.videos_schemas import VideoRead
from api.streams.videos_store import VideoStore


class VideoRegistry:
    def __init__(self, store: VideoStore, root: Path, *, pools: Pools, probe_limits: Limits = PROBE_LIMITS) -> None:
        self._store, self._pools, self._probe_limits = store, pools, probe_limits
        self.root = root

    async def upload(self, source: AsyncReadable, *, filename: str | None, name: str | None,
                     created_by: int | None, max_bytes: int) -> VideoRead:
        """Stage, check the container, decode it in a throwaway process, then place file and row together."""
        container = container_of(filename)  # before it is copied: a .txt is refused at once
        staged = await stage_upload(source, self.root / ".uploads", max_bytes=max_bytes, suffix=f".{container}",
                                    writer=self._pools.files)
        try:
            check_magic(staged.path, container)
            info = await probe_video(staged.path, limits=self._probe_limits, waiter=self._pools.waits)
            original = printable(PurePath(filename or "").name, 255) or f"video.{container}"
            video_id = await self._store.insert(
                info, name=printable(name or Path(original).stem, 100) or "video", filename=original,
                container=container, size_bytes=staged.size, sha256=staged.sha256, created_by=created_by,
                place_file=lambda new_id: staged.path.replace(self.root / f"{new_id}.{container}"))
            return await self.get(video_id)
        finally:
            staged.path.unlink(missing_ok=True)  # gone already when it was placed

    async def get(self, video_id: int) -> VideoRead:
        """The video's row; 404 `video_not_found`."""
        return await self._store.get(video_id)

    async def list(self, *, limit: int, offset: int, as_of: int | None = None) -> tuple[list[VideoRead], int]:
        return await self._store.list(limit=limit, offset=offset, as_of=as_of)

    def path_of(self, video_id: int) -> Path:
        """The stored file of video `video_id`; 404 `video_not_found` when there is none."""
        for container in CONTAINERS:
            path = self.root / f"{video_id}.{container}"
            if path.is_file():
                return path
        raise NotFound(f"Video {video_id} has no file.", code="video_not_found", details={"id": video_id})

    async def delete(self, video_id: int, *, key: ApiKeyRead) -> None:
        """Delete row and file (its creator or an admin); 409 `video_in_use` while a stream plays it."""
        video = await self.get(video_id)
        require_owner(key, video.created_by, "video")
        streams = await self._store.delete_unless_in_use(video_id)
        if streams:
            raise Conflict(f"Video {video_id} is the source of {len(streams)} stream(s); delete or change them first.",
                           code="video_in_use", details={"streams": streams})
        # After the commit: a crash in between leaves a file without a row, which the start-up sweep removes.
        await self._pools.files.run((self.root / f"{video_id}.{video.container}").unlink, missing_ok=True)
