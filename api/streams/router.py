"""Streams over HTTP: admins define and delete, operators start, stop and tune, viewers watch."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from api.auth.schemas import Role
from api.core.errors import Conflict, NotFound, ValidationFailed
from api.core.http import Id, SnapshotPage
from api.core.responses import errors
from api.dependencies import CurrentKey, ServicesDep, require_role
from api.streams.records import StreamRow
from api.streams.schemas import StreamCreate, StreamList, StreamRead, StreamTracks, StreamUpdate

viewer = APIRouter(tags=["streams"], dependencies=[require_role(Role.viewer)], responses=errors())
operator = APIRouter(tags=["streams"], dependencies=[require_role(Role.operator)], responses=errors())
admin = APIRouter(tags=["streams"], dependencies=[require_role(Role.admin)], responses=errors())

_JPEG = {200: {"content": {"image/jpeg": {}}, "description": "The latest annotated frame."}}
_YAML = {"content": {"application/yaml": {}}}
MJPEG_BOUNDARY = "frame"


async def stream_or_404(stream_id: Id, services: ServicesDep) -> StreamRow:
    return await services.streams.get_row(stream_id)


StreamDep = Annotated[StreamRow, Depends(stream_or_404)]


@admin.get("/streams/config", response_class=Response, responses={200: {**_YAML, "description": "All definitions."}})
async def export_config(services: ServicesDep) -> Response:
    """Every stream definition as YAML (service / tracking / osc / cameras), camera passwords included."""
    return Response(await services.stream_config.export(), media_type="application/yaml")


@admin.put("/streams/config", responses=errors(409), openapi_extra={"requestBody": {
    "required": True, "content": {"application/yaml": {"schema": {"type": "string"}}},
    "description": "YAML as GET /streams/config gives it."}})
async def import_config(request: Request, key: CurrentKey, services: ServicesDep) -> dict[str, list[str]]:
    """Make the streams what the YAML says: same name -> updated live, new -> created, missing -> deleted.
    Checked as a whole first: one bad camera (the error names its line and field) changes nothing.
    Answers the names under created, updated, deleted and unchanged."""
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed.for_field("body", "the YAML must be UTF-8 text") from None
    return await services.stream_config.replace(text, key=key)


@admin.post("/streams", response_model=StreamRead, status_code=201, responses=errors(409))
async def create_stream(body: StreamCreate, key: CurrentKey, services: ServicesDep) -> StreamRead:
    """Define a stream; with `enabled` (the default) its worker starts at once and again at every server start."""
    return await services.streams.create(body, key=key)


@viewer.get("/streams", response_model=StreamList)
async def list_streams(services: ServicesDep, page: SnapshotPage) -> StreamList:
    """Streams in the order they were made, each with its status and telemetry."""
    items, total = await services.streams.list(limit=page.limit, offset=page.offset, as_of=page.as_of)
    return StreamList(items=items, total=total)


@viewer.get("/streams/{stream_id}", response_model=StreamRead, responses=errors(404))
async def get_stream(stream: StreamDep, services: ServicesDep) -> StreamRead:
    """Settings, status and telemetry (fps, latency per stage, drops, reconnects, counts)."""
    return await services.streams.get(stream.id)


@operator.patch("/streams/{stream_id}", response_model=StreamRead, responses=errors(404, 409))
async def update_stream(stream: StreamDep, body: StreamUpdate, key: CurrentKey, services: ServicesDep) -> StreamRead:
    """Change settings; a running stream applies them without a restart (a new model or source reopens only that).
    Changing `source` is for admins."""
    return await services.streams.update(stream, body, key=key)


@operator.post("/streams/{stream_id}/start", response_model=StreamRead, responses=errors(404))
async def start_stream(stream: StreamDep, key: CurrentKey, services: ServicesDep) -> StreamRead:
    """Start (and keep enabled across server restarts); a running stream is left as it is."""
    return await services.streams.start(stream, key=key)


@operator.post("/streams/{stream_id}/stop", response_model=StreamRead, responses=errors(404))
async def stop_stream(stream: StreamDep, services: ServicesDep) -> StreamRead:
    """Stop the worker (and do not start it with the server)."""
    return await services.streams.stop(stream)


@admin.delete("/streams/{stream_id}", status_code=204, responses=errors(404))
async def delete_stream(stream: StreamDep, services: ServicesDep) -> Response:
    """Stop and delete a stream."""
    await services.streams.delete(stream)
    return Response(status_code=204)


@viewer.get("/streams/{stream_id}/tracks", response_model=StreamTracks, responses=errors(404))
async def latest_tracks(stream: StreamDep, services: ServicesDep) -> StreamTracks:
    """The tracks of the latest processed frame (boxes in 0..1 of the frame)."""
    return services.streams.tracks(stream)


def _no_preview(stream_id: int, running: bool) -> Exception:
    if not running:
        return Conflict(f"Stream {stream_id} is not running.", code="stream_not_running", details={"id": stream_id})
    return NotFound(f"Stream {stream_id} has no processed frame yet.", code="no_preview", details={"id": stream_id})


@viewer.get("/streams/{stream_id}/preview.jpg", response_class=Response, responses={**errors(404, 409), **_JPEG})
async def preview_jpeg(stream: StreamDep, services: ServicesDep) -> Response:
    """The latest annotated frame: boxes, track ids and slots, the ROI, zones and lines."""
    live = services.streams.live(stream.id)
    if live.preview is None or not services.streams.supervisor.is_running(stream.id):
        raise _no_preview(stream.id, services.streams.supervisor.is_running(stream.id))
    return Response(live.preview, media_type="image/jpeg", headers={"Cache-Control": "no-store"})


@viewer.get("/streams/{stream_id}/preview.mjpeg", response_class=StreamingResponse, responses={
    **errors(404, 409), 200: {"content": {f"multipart/x-mixed-replace; boundary={MJPEG_BOUNDARY}": {}},
                              "description": "Annotated frames as they come, for a browser <img>."}})
async def preview_mjpeg(
    stream: StreamDep, services: ServicesDep,
    fps: Annotated[float, Query(gt=0, le=15, description="Most frames per second sent.")] = 5.0,
) -> StreamingResponse:
    """Annotated frames as multipart/x-mixed-replace; ends when the stream stops."""
    supervisor = services.streams.supervisor
    if not supervisor.is_running(stream.id):
        raise _no_preview(stream.id, False)

    async def parts() -> AsyncIterator[bytes]:
        sent = -1
        while supervisor.is_running(stream.id):
            live = supervisor.state(stream.id)
            if live.preview is None or live.preview_seq == sent:  # nothing new: wait for the next (or re-check)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(live.preview_changed.wait(), 2.0)
                continue
            sent = live.preview_seq
            yield (f"--{MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(live.preview)}\r\n\r\n"
                   ).encode() + live.preview + b"\r\n"
            await asyncio.sleep(1.0 / fps)

    return StreamingResponse(parts(), media_type=f"multipart/x-mixed-replace; boundary={MJPEG_BOUNDARY}",
                             headers={"Cache-Control": "no-store"})


router = APIRouter()
router.include_router(admin)  # first: /streams/config before /streams/{stream_id}
router.include_router(viewer)
router.include_router(operator)
