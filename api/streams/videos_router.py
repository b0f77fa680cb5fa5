"""Videos: recorded files that streams play as the source `video:<id>`."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, UploadFile
from fastapi.responses import Response

from api.auth.schemas import Role
from api.core.http import Id, SnapshotPage
from api.core.responses import errors
from api.dependencies import CurrentKey, ServicesDep, require_role
from api.streams.videos_schemas import VideoList, VideoRead

viewer = APIRouter(tags=["videos"], dependencies=[require_role(Role.viewer)], responses=errors())
operator = APIRouter(tags=["videos"], dependencies=[require_role(Role.operator)], responses=errors())


async def video_or_404(video_id: Id, services: ServicesDep) -> VideoRead:
    return await services.videos.get(video_id)


VideoDep = Annotated[VideoRead, Depends(video_or_404)]


@operator.post("/videos", response_model=VideoRead, status_code=201, responses=errors(413, 415))
async def upload_video(
    key: CurrentKey,
    services: ServicesDep,
    file: Annotated[UploadFile, File(description="A video file: .mp4, .avi, .mkv or .webm.")],
    name: Annotated[str | None, Form(max_length=100)] = None,
) -> VideoRead:
    """Upload a video; it is kept only if its first and last frames decode (checked in a throwaway process)."""
    return await services.videos.upload(file, filename=file.filename, name=name, created_by=key.id,
                                        max_bytes=services.settings.max_upload_bytes)


@viewer.get("/videos", response_model=VideoList)
async def list_videos(services: ServicesDep, page: SnapshotPage) -> VideoList:
    """Uploaded videos, newest first."""
    items, total = await services.videos.list(limit=page.limit, offset=page.offset, as_of=page.as_of)
    return VideoList(items=items, total=total)


@viewer.get("/videos/{video_id}", response_model=VideoRead, responses=errors(404))
async def get_video(video: VideoDep) -> VideoRead:
    """One video: container, size, frame size, fps, frame count, duration, codec."""
    return video


@operator.delete("/videos/{video_id}", status_code=204, responses=errors(404, 409))
async def delete_video(video: VideoDep, key: CurrentKey, services: ServicesDep) -> Response:
    """Delete a video (its uploader or an admin) unless a stream plays it."""
    await services.videos.delete(video.id, key=key)
    return Response(status_code=204)


router = APIRouter()
router.include_router(viewer)
router.include_router(operator)
