"""The ingest path: external sessions, and what any run reports over HTTP (external scripts, cluster workers).

Who may report: an operator key into the external sessions it created (admins: any external session), or a
cluster worker's session token into its own run. Everything acknowledged is committed first, so a 2xx is never
lost; a retried batch_id is acknowledged again and stored once."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from api.auth.schemas import ApiKeyRead
from api.auth.service import require_owner
from api.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from api.core.events import EventBus
from api.core.pools import Pool
from api.core.uploads import AsyncReadable, stage_upload
from api.training.child.contract import Checkpoint, Failed, Result
from api.training.ingest.schemas import (
    ArtifactRead,
    ExternalSessionCreate,
    FinishIn,
    IngestAck,
    LogBatch,
    LogLineIn,
    MetricBatch,
    ProgressIn,
)
from api.training.ingest.store import IngestStore
from api.training.ingest.tokens import SessionGrant, SessionTokens
from api.training.log_store import LogStore
from api.training.metrics_store import BATCH_PREFIX
from api.training.records import SessionRecord
from api.training.scheduler import Scheduler
from api.training.schemas import SessionRead, SessionStatus
from api.training.store import SessionStore

_S = SessionStatus
Caller = ApiKeyRead | SessionGrant
_LOG_EVENTS_PER_BATCH = 50  # a 5000-line batch is stored whole; the event stream gets its first lines


class IngestService:
    def __init__(self, *, sessions: SessionStore, store: IngestStore, tokens: SessionTokens, scheduler: Scheduler,
                 logs: LogStore, bus: EventBus, runs_root: Path, files: Pool, max_artifact_bytes: int) -> None:
        self.sessions, self.store, self.tokens, self.scheduler = sessions, store, tokens, scheduler
        self._logs, self._bus, self._runs_root, self._files = logs, bus, runs_root, files
        self._max_artifact_bytes = max_artifact_bytes
        self._last_report: dict[int, float] = {}

    async def create_external(self, body: ExternalSessionCreate, *, created_by: int | None,
                              on_behalf_of: str | None) -> SessionRead:
        now = time.time()
        session_id = await self.sessions.insert(
            name=body.name, task=body.task, kind="external", model="external", config=body.config, priority=0,
            status=_S.running.value, created_at=now, started_at=now, epochs=body.epochs, attempts=1,
            device="external", created_by=created_by, on_behalf_of=on_behalf_of)
        assert session_id is not None
        self._bus.publish("session.started", {"session_id": session_id, "device": "external", "epochs": body.epochs,
                                              "start_epoch": 0})
        return await self.scheduler.announce(session_id)

    # --- who may report ------------------------------------------------------------------------------

    async def _writable(self, session_id: int, caller: Caller) -> SessionRecord:
        record = await self.sessions.record(session_id)  # 404 first
        self._last_report[session_id] = time.time()  # by the server's clock, whatever `ts` the client sends
        if isinstance(caller, SessionGrant):
            if record.status != _S.running or record.attempts != caller.attempt:
                raise Conflict(f"Session {session_id} is no longer run by this worker.", code="run_superseded",
                               details={"status": record.status.value})
            return record
        require_owner(caller, record.created_by, "session", "report into")
        if record.kind != "external":
            raise Conflict(f"Session {session_id} is a {record.kind} session run by this server; only external "
                           "sessions take reports from an API key.", code="not_external", details={"kind": record.kind})
        if record.status != _S.running:
            raise Conflict(f"Session {session_id} is {record.status.value}; a finished session takes no more reports.",
                           code="session_finished", details={"status": record.status.value})
        return record

    async def require_input(self, caller: Caller, *, dataset_id: int | None = None, model_id: int | None = None) -> None:
        """A worker's token reads only its own run's inputs: its dataset and its base model (keys: their role)."""
        if not isinstance(caller, SessionGrant):
            return
        record = await self.sessions.record(caller.session_id)
        if record.status != _S.running or (dataset_id is not None and record.dataset_id != dataset_id) or (
                model_id is not None and record.base_model_id != model_id):
            raise Forbidden(f"This token reads the inputs of session {caller.session_id} only.", code="token_scope")

    def _ack(self, record: SessionRecord, accepted: int, duplicate: bool) -> IngestAck:
        return IngestAck(session_id=record.id, accepted=accepted, duplicate=duplicate,
                         stop_requested=record.stop_requested)

    # --- reports -------------------------------------------------------------------------------------

    async def metrics(self, session_id: int, body: MetricBatch, caller: Caller) -> IngestAck:
        record = await self._writable(session_id, caller)
        newest = await self.store.add_metrics(session_id, body.batch_id, body.points, default_epoch=record.epoch)
        if newest is None:
            return self._ack(record, 0, True)
        self._bus.publish("session.metrics", {"session_id": session_id, "points": len(body.points),
                                              "latest": {k: v for k, (_s, v) in list(newest.items())[:20]}})
        return self._ack(record, len(body.points), False)

    async def logs(self, session_id: int, body: LogBatch, caller: Caller) -> IngestAck:
        record = await self._writable(session_id, caller)
        lines = [line for line in body.lines if isinstance(line, LogLineIn)]
        if not await self.store.add_logs(session_id, body.batch_id, lines):
            return self._ack(record, 0, True)
        for line in lines[:_LOG_EVENTS_PER_BATCH]:
            self._bus.publish("log.line", {"session_id": session_id, "level": line.level, "message": line.message})
        return self._ack(record, len(lines), False)

    async def progress(self, session_id: int, body: ProgressIn, caller: Caller) -> IngestAck:
        record = await self._writable(session_id, caller)
        if body.epoch > body.epochs:
            raise ValidationFailed.for_field("body.epoch", f"epoch {body.epoch} is past epochs {body.epochs}")
        updates: dict[str, Any] = {"epoch": body.epoch, "epochs": body.epochs}
        if body.batches is not None:
            updates["batches"] = body.batches
        updates["batch_index"] = body.batch if body.batch is not None else 0
        if body.fitness is not None and (record.best_fitness is None or body.fitness >= record.best_fitness):
            best = {k: v for k, v in record.latest_metrics.items() if not k.startswith(BATCH_PREFIX)}
            updates.update(best_fitness=body.fitness, best_metrics={**best, "epoch": body.epoch})
        await self.sessions.update(session_id, **updates)
        if body.epoch != record.epoch:
            self._bus.publish("session.epoch", {"session_id": session_id, "epoch": body.epoch, "epochs": body.epochs,
                                                "metrics": record.latest_metrics})
        else:
            self._bus.publish("session.progress", {"session_id": session_id, "epoch": body.epoch,
                                                   "batch": body.batch, "batches": body.batches})
        return self._ack(record, 1, False)

    async def finish(self, session_id: int, body: FinishIn, caller: Caller) -> SessionRead:
        record = await self._writable(session_id, caller)
        if isinstance(caller, SessionGrant):  # a run the scheduler owns: it settles it (and registers the model)
            await self.scheduler.deliver(session_id, await self._outcome(record, body))
            return await self.sessions.get(session_id)
        now = time.time()  # its logs were written as they came (no buffer to flush): the tail below sees them all
        values: dict[str, Any] = {"ended_at": now, "run_seconds": now - (record.started_at or now)}
        if body.status == "failed":
            values.update(error=body.error or "the run reported a failure",
                          error_tail=json.dumps(await self._logs.tail(session_id, 30)))
        if not record.best_metrics and record.latest_metrics:
            values["best_metrics"] = record.latest_metrics
        if not await self.sessions.transition(session_id, _S(body.status), only_from=(_S.running,), **values):
            raise Conflict(f"Session {session_id} finished meanwhile.", code="session_finished")
        await self.tokens.expire(session_id)
        self._last_report.pop(session_id, None)
        return await self.scheduler.announce(session_id)

    async def fail_silent(self, timeout_s: float) -> None:
        """External sessions whose script went away without finishing: failed, saying so."""
        since = time.time() - timeout_s
        for session_id in await self.store.silent_external(since):
            if self._last_report.get(session_id, 0.0) >= since:  # progress posts (and any report) since a restart
                continue
            hours = timeout_s / 3600
            if await self.sessions.transition(session_id, _S.failed, only_from=(_S.running,), ended_at=time.time(),
                                              error=f"no report for {hours:g} h: its script is gone"):
                await self.scheduler.announce(session_id)

    async def _outcome(self, record: SessionRecord, body: FinishIn) -> Result | Failed:
        if body.status == "failed":
            return Failed(message=body.error or "the worker reported a failure", traceback="")
        models = [a for a in await self.store.artifacts(record.id) if a.role == "model"]
        if body.status == "completed" and not models:
            raise ValidationFailed.for_field("body.status", "a completed run uploads its weights first "
                                             "(POST /sessions/{id}/artifacts with role=model)")
        best = self._artifact_dir(record.id) / models[-1].name if models else Path()
        return Result(best=str(best), stopped=body.status == "stopped", names={}, epochs_done=record.epoch)

    # --- files ---------------------------------------------------------------------------------------

    def _artifact_dir(self, session_id: int) -> Path:
        return self._runs_root / str(session_id) / "artifacts"

    async def add_artifact(self, session_id: int, *, name: str, role: str, source: AsyncReadable,
                           caller: Caller) -> ArtifactRead:
        await self._writable(session_id, caller)
        folder = self._artifact_dir(session_id)
        staged = await stage_upload(source, folder / ".staging", max_bytes=self._max_artifact_bytes, suffix=".part",
                                    writer=self._files)
        target = folder / name
        await self._files.run(staged.path.replace, target)
        artifact = await self.store.add_artifact(session_id=session_id, name=name, role=role, path=str(target),
                                                 size_bytes=staged.size, sha256=staged.sha256)
        if role == "checkpoint" and isinstance(caller, SessionGrant):  # what the run resumes from, if its node dies
            epoch = (await self.sessions.record(session_id)).epoch
            await self.scheduler.deliver(session_id, Checkpoint(path=str(target), epoch=epoch))
        return artifact

    async def artifacts(self, session_id: int) -> list[ArtifactRead]:
        await self.sessions.row(session_id)
        return await self.store.artifacts(session_id)

    async def artifact_file(self, session_id: int, artifact_id: int) -> tuple[ArtifactRead, Path]:
        found = await self.store.artifact_path(session_id, artifact_id)
        if found is None or not Path(found[1]).is_file():
            raise NotFound(f"Session {session_id} has no artifact {artifact_id}.", code="artifact_not_found")
        return found[0], Path(found[1])
