"""Training sessions, the queue, metrics, logs (with SSE follow) and charts."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import Discriminator, Tag

from api.auth.schemas import Role
from api.core.errors import ValidationFailed
from api.core.http import Id, OnBehalfOf, SnapshotPage
from api.core.responses import errors
from api.core.schemas import MAX_ID
from api.dependencies import CurrentKey, ServicesDep, require_role
from api.training.ingest.schemas import ExternalSessionCreate
from api.training.schemas import (
    LatestMetrics,
    LogLevel,
    LogList,
    MetricColumns,
    MetricList,
    QueueRead,
    SessionCreate,
    SessionList,
    SessionRead,
    SessionStatus,
    SessionUpdate,
)

viewer = APIRouter(tags=["sessions"], dependencies=[require_role(Role.viewer)], responses=errors())
operator = APIRouter(tags=["sessions"], dependencies=[require_role(Role.operator)], responses=errors())
admin = APIRouter(tags=["sessions"], dependencies=[require_role(Role.admin)], responses=errors())


async def session_or_404(session_id: Id, services: ServicesDep) -> SessionRead:
    return await services.sessions.get(session_id)


SessionDep = Annotated[SessionRead, Depends(session_or_404)]


def _session_kind(value: Any) -> str:
    kind = value.get("kind", "train") if isinstance(value, dict) else getattr(value, "kind", "train")
    return "kind=external" if kind == "external" else "kind=train"


# Tags named "kind=...": the error handler leaves them out of a field's name, so a bad field of a training
# session is still `body.imgsz`, as before external sessions existed (the dashboard and clients key on it).
NewSession = Annotated[Annotated[SessionCreate, Tag("kind=train")] | Annotated[ExternalSessionCreate, Tag("kind=external")],
                       Discriminator(_session_kind)]


@operator.post("/sessions", response_model=SessionRead, status_code=201, responses=errors(415))
async def create_session(body: NewSession, key: CurrentKey, behalf: OnBehalfOf, services: ServicesDep) -> SessionRead:
    """Queue a training session; it starts when a slot (and a GPU, if asked for) is free. With `"kind": "external"`,
    a session your own script reports into (POST /sessions/{id}/metrics, /logs, /progress, /finish): it is
    running at once."""
    if isinstance(body, ExternalSessionCreate):
        return await services.ingest.create_external(body, created_by=key.id, on_behalf_of=behalf)
    return await services.sessions.create(body, created_by=key.id, on_behalf_of=behalf)


@viewer.get("/sessions", response_model=SessionList)
async def list_sessions(
    services: ServicesDep, page: SnapshotPage,
    status: Annotated[list[SessionStatus] | None, Query(description="Repeat to match several.")] = None,
) -> SessionList:
    """Sessions, newest first."""
    items, total = await services.sessions.list(statuses=status, limit=page.limit, offset=page.offset,
                                                as_of=page.as_of)
    return SessionList(items=items, total=total)


@viewer.get("/sessions/{session_id}", response_model=SessionRead, responses=errors(404))
async def get_session(session: SessionDep) -> SessionRead:
    """Status, progress (epoch, batch, elapsed, ETA), latest and best metrics, device, error."""
    return session


@operator.post("/sessions/{session_id}/stop", response_model=SessionRead, responses=errors(404, 409))
async def stop_session(session: SessionDep, key: CurrentKey, services: ServicesDep) -> SessionRead:
    """Queued: cancel. Running: stop after the current batch with a checkpoint (killed after the grace period).
    Operators: only their own sessions."""
    return await services.sessions.stop(session.id, key=key)


@operator.post("/sessions/{session_id}/resume", response_model=SessionRead, responses=errors(404, 409))
async def resume_session(session: SessionDep, key: CurrentKey, services: ServicesDep) -> SessionRead:
    """Queue a stopped or interrupted session again; it continues from its last checkpoint. Operators: only
    their own sessions."""
    return await services.sessions.resume(session.id, key=key)


@operator.patch("/sessions/{session_id}", response_model=SessionRead, responses=errors(404, 415))
async def update_session(session: SessionDep, body: SessionUpdate, key: CurrentKey,
                         services: ServicesDep) -> SessionRead:
    """Change the priority (higher starts first). Operators: only their own sessions."""
    return await services.sessions.set_priority(session.id, body.priority, key=key)


@admin.delete("/sessions/{session_id}", status_code=204, responses=errors(404, 409))
async def delete_session(session: SessionDep, services: ServicesDep) -> Response:
    """Delete a session that is not running, with its metrics, logs and run directory (its model stays)."""
    await services.sessions.delete(session.id)
    return Response(status_code=204)


@viewer.get("/queue", response_model=QueueRead)
async def get_queue(services: ServicesDep) -> QueueRead:
    """Running sessions and the queued ones in the order they will start."""
    return await services.sessions.queue()


@viewer.get("/sessions/{session_id}/metrics", response_model=MetricList | MetricColumns, responses=errors(404))
async def get_session_metrics(
    session: SessionDep, services: ServicesDep,
    key: Annotated[str | None, Query(max_length=200, description="One key, e.g. metrics/mAP50(B) or "
                                     "batch/train/box_loss. Default: all per-epoch keys.")] = None,
    epoch_from: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    epoch_to: Annotated[int | None, Query(ge=0, le=MAX_ID)] = None,
    format: Annotated[Literal["points", "columns"], Query(
        description="points: a list of objects; columns: one key's history as parallel arrays (needs key).")] = "points",
    fields: Annotated[str, Query(max_length=40, pattern=r"^(steps|epochs|values|ts)(,(steps|epochs|values|ts)){0,3}$",
                                 description="columns: which arrays, of steps, epochs, values, ts.")] = "steps,values",
    limit: Annotated[int, Query(ge=1, le=100_000, description="Points per page (points: at most 1000).")] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000_000)] = 0,
) -> MetricList | Response:
    """Metric history ordered by key and step (per-epoch keys: step = epoch; batch/ keys: global batch)."""
    if format == "columns":
        if key is None:
            raise ValidationFailed.for_field("query.key", "format=columns needs one key")
        body = await services.history.metric_columns(
            session_id=session.id, key=key, fields=list(dict.fromkeys(fields.split(","))), epoch_from=epoch_from,
            epoch_to=epoch_to, limit=limit, offset=offset)
        return Response(body, media_type="application/json")  # JSON built by SQLite: no model per point
    if limit > 1000:
        raise ValidationFailed.for_field("query.limit", "at most 1000 points per page; format=columns allows 100000")
    items, total = await services.history.metric_points(session_id=session.id, key=key, epoch_from=epoch_from,
                                                        epoch_to=epoch_to, limit=limit, offset=offset)
    return MetricList(items=items, total=total)


@viewer.get("/sessions/{session_id}/metrics/latest", response_model=LatestMetrics, responses=errors(404))
async def get_latest_metrics(session: SessionDep) -> LatestMetrics:
    """The metrics of the last finished epoch."""
    return LatestMetrics(session_id=session.id, epoch=session.progress.epoch, metrics=session.latest_metrics)


@viewer.get(
    "/sessions/{session_id}/logs",
    response_model=LogList,
    responses={**errors(404), 200: {"content": {"application/json": {}, "text/event-stream": {}},
                                    "description": "Log lines, or an SSE stream with follow=true."}},
)
async def get_session_logs(
    session: SessionDep, services: ServicesDep, page: SnapshotPage, key: CurrentKey,
    level: Annotated[LogLevel | None, Query(description="This level and above.")] = None,
    since: Annotated[float | None, Query(ge=0, description="Unix time.")] = None,
    follow: Annotated[bool, Query(description="Stream new lines as server-sent events until the run ends.")] = False,
) -> LogList | StreamingResponse:
    """Log lines of the run (Ultralytics output, warnings, tracebacks), oldest first."""
    if follow:
        stream = services.history.follow_logs(session.id, level, since, allowed=lambda: services.auth.is_active(key.id))
        return StreamingResponse(stream, media_type="text/event-stream", headers={"Cache-Control": "no-cache"})
    items, total = await services.history.log_lines(session_id=session.id, level=level, since=since,
                                                    limit=page.limit, offset=page.offset, as_of=page.as_of)
    return LogList(items=items, total=total)


@viewer.get("/sessions/{session_id}/chart.png", response_class=Response, responses={
    **errors(404), 200: {"content": {"image/png": {}}, "description": "Losses and validation metrics per epoch."}})
async def get_session_chart(session: SessionDep, services: ServicesDep) -> Response:
    """A PNG chart of losses and validation metrics per epoch."""
    return Response(await services.history.chart(session), media_type="image/png")


router = APIRouter()
for sub in (viewer, operator, admin):
    router.include_router(sub)
