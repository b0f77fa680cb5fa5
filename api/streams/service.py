"""Streams: definitions in SQLite, one supervised worker per running stream, settings applied live."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from api.auth.schemas import ApiKeyRead, Role
from api.core.errors import Forbidden, NotFound, ValidationFailed
from api.registry.models.service import ModelRegistry
from api.streams import sources
from api.streams.records import StreamRow
from api.streams.schemas import (
    StreamCreate,
    StreamRead,
    StreamTelemetry,
    StreamTracks,
    StreamUpdate,
    TrackingSettings,
    TrackRead,
    settings_of,
)
from api.streams.store import StreamStore
from api.streams.supervisor import LiveState, StreamSupervisor
from api.streams.videos_service import VideoRegistry
from api.streams.worker.contract import SourceSpec, WorkerSpec

logger = logging.getLogger(__name__)


class StreamService:
    def __init__(self, store: StreamStore, supervisor: StreamSupervisor, *, videos: VideoRegistry,
                 models: ModelRegistry, config_dir: Path, threads: int = 0) -> None:
        self._store, self.supervisor = store, supervisor
        self._videos, self._models = videos, models
        self._config_dir, self._threads = config_dir, threads

    # -- reading ----------------------------------------------------------------------------------------------------

    def _read(self, row: StreamRow) -> StreamRead:
        live = self.supervisor.state(row.id)
        telemetry = StreamTelemetry.model_validate({**live.telemetry, "last_error": live.last_error,
                                                    "restarts": live.restarts})
        if not self.supervisor.is_running(row.id):
            telemetry = StreamTelemetry(last_error=live.last_error, restarts=live.restarts,
                                        frames_in=telemetry.frames_in, frames_processed=telemetry.frames_processed,
                                        zone_counts=telemetry.zone_counts, line_counts=telemetry.line_counts)
        return StreamRead(id=row.id, name=row.name, source=sources.mask(row.source), model_id=row.model_id,
                          enabled=row.enabled, status=live.status, telemetry=telemetry, created_at=row.created_at,
                          created_by=row.created_by, updated_at=row.updated_at, **row.settings)

    async def get_row(self, stream_id: int) -> StreamRow:
        return await self._store.get(stream_id)

    async def get(self, stream_id: int) -> StreamRead:
        return self._read(await self._store.get(stream_id))

    async def list(self, *, limit: int, offset: int, as_of: int | None = None) -> tuple[list[StreamRead], int]:
        rows, total = await self._store.list(limit=limit, offset=offset, as_of=as_of)
        return [self._read(row) for row in rows], total

    def live(self, stream_id: int) -> LiveState:
        return self.supervisor.state(stream_id)

    def tracks(self, row: StreamRow) -> StreamTracks:
        frame = self.supervisor.state(row.id).frame
        if frame is None:
            return StreamTracks(stream_id=row.id, frame=None, ts=None, tracks=[])
        return StreamTracks(stream_id=row.id, frame=frame.frame, ts=frame.ts,
                            tracks=[TrackRead.model_validate(t) for t in frame.tracks])

    # -- checks -----------------------------------------------------------------------------------------------------

    async def check(self, *, source: str, model_id: int, settings: dict[str, Any], key: ApiKeyRead,
                     prefix: str = "body") -> None:
        """Everything that can be known before a worker starts: bad input is a 4xx, nothing is started."""
        sources.check_allowed(source, key, f"{prefix}.source")
        sources.check_url(source, f"{prefix}.source")
        video = sources.video_id(source)
        if video is not None:
            try:
                await self._videos.get(video)
            except NotFound:
                raise ValidationFailed.for_field(f"{prefix}.source", f"video {video} does not exist",
                                                 code="unknown_video") from None
        try:
            model = await self._models.usable(model_id)
        except NotFound:
            raise ValidationFailed.for_field(f"{prefix}.model", f"model {model_id} does not exist",
                                             code="unknown_model") from None
        if model.task != "detect":
            raise ValidationFailed.for_field(f"{prefix}.model", f"model {model_id} is a {model.task} model; tracking "
                                                                f"needs a detection model")
        unknown = sorted(set(settings.get("classes") or []) - set(model.classes))
        if unknown:
            error = ValidationFailed.for_field(f"{prefix}.classes", f"not classes of model {model_id}: "
                                                                    f"{', '.join(unknown)}")
            error.details["model_classes"] = model.classes
            raise error

    def _spec(self, row: StreamRow) -> WorkerSpec:
        video = sources.video_id(row.source)
        if video is not None:
            source = SourceSpec("video", str(self._videos.path_of(video)), row.source)
        elif row.source.startswith("device:"):
            source = SourceSpec("device", row.source.removeprefix("device:"), row.source)
        else:
            source = SourceSpec("url", row.source, sources.mask(row.source))
        return WorkerSpec(stream_id=row.id, source=source, model_path=str(self._models.path_of(row.model_id)),
                          settings=row.settings, config_dir=str(self._config_dir),
                          threads=self._threads or os.cpu_count() or 1)

    # -- changing ---------------------------------------------------------------------------------------------------

    async def create(self, body: StreamCreate, *, key: ApiKeyRead) -> StreamRead:
        settings = settings_of(body)
        await self.check(source=body.source, model_id=body.model, settings=settings, key=key)
        stream_id = await self._store.insert(name=body.name, source=body.source, model_id=body.model,
                                             settings=settings, enabled=body.enabled, created_by=key.id)
        row = await self._store.get(stream_id)
        if row.enabled:
            await self.supervisor.start(self._spec(row))
        return self._read(row)

    async def update(self, row: StreamRow, body: StreamUpdate, *, key: ApiKeyRead) -> StreamRead:
        sent = body.model_fields_set
        if not sent:
            raise ValidationFailed.for_field("body", "send at least one field to change")
        for field in ("name", "source", "model", "enabled", "conf", "iou", "tracker", "objects_max",
                      "persistence_ms", "period_frames", "device", "zones", "lines", "sinks"):
            if field in sent and getattr(body, field) is None:
                raise ValidationFailed.for_field(f"body.{field}", "may not be null")
        if "source" in sent and body.source != row.source and key.role != Role.admin:
            raise Forbidden("Only admins may change where a stream reads from.", code="forbidden_source",
                            details={"field": "body.source"})
        changes = body.model_dump(include=sent & set(TrackingSettings.model_fields))
        try:
            settings = TrackingSettings.model_validate({**row.settings, **changes}).model_dump(mode="json")
        except ValueError as exc:
            raise ValidationFailed.for_field("body", str(exc).splitlines()[-1].strip()) from None
        new = StreamRow(id=row.id, name=body.name or row.name, source=body.source or row.source,
                        model_id=body.model or row.model_id, settings=settings,
                        enabled=row.enabled if body.enabled is None else body.enabled, created_at=row.created_at,
                        created_by=row.created_by, updated_at=row.updated_at)
        await self.check(source=new.source, model_id=new.model_id, settings=settings, key=key)
        await self._store.update(new)
        await self.apply(new)
        return self._read(await self._store.get(row.id))

    async def apply(self, row: StreamRow) -> None:
        """Run state follows `enabled`; a running worker gets the new settings live (same process)."""
        if row.enabled:
            await self.supervisor.start(self._spec(row))
        else:
            await self.supervisor.stop(row.id)

    async def start(self, row: StreamRow, *, key: ApiKeyRead) -> StreamRead:
        await self.check(source=row.source, model_id=row.model_id, settings=row.settings, key=key)
        await self._store.set_enabled(row.id, True)
        row = await self._store.get(row.id)
        await self.apply(row)
        return self._read(row)

    async def stop(self, row: StreamRow) -> StreamRead:
        await self._store.set_enabled(row.id, False)
        await self.supervisor.stop(row.id)
        return self._read(await self._store.get(row.id))

    async def delete(self, row: StreamRow) -> None:
        await self.supervisor.stop(row.id)
        await self._store.delete(row.id)
        self.supervisor.forget(row.id)

    async def start_enabled(self) -> None:
        """At server start: every stream that was enabled runs again (a broken one fails on its own)."""
        for row in await self._store.enabled():
            try:
                await self.supervisor.start(self._spec(row))
            except Exception:  # noqa: BLE001 - one stream's problem never stops the server or the others
                logger.exception("stream %d could not be started", row.id)

    async def all_rows(self) -> list[StreamRow]:
        return await self._store.all()
