"""The public ingest API: external sessions report metrics, logs, progress, files and their end; so do cluster
workers, with their session token. Reading what was reported is the sessions router's business."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import FileResponse

from api.auth.schemas import Role
from api.core.errors import ValidationFailed
from api.core.http import Id, fast_json_body
from api.core.responses import errors
from api.dependencies import ServicesDep, key_or_session_token
from api.training.ingest.schemas import (
    ARTIFACT_NAME,
    ARTIFACT_NAME_RE,
    ArtifactList,
    ArtifactRead,
    FinishIn,
    IngestAck,
    LogBatch,
    MetricBatch,
    ProgressIn,
)
from api.training.ingest.service import Caller
from api.training.schemas import SessionRead

router = APIRouter(tags=["ingest"], responses=errors(401, 403, 404, 409))
# Reports are many and small: the audit trail records who created and who finished a session, not every batch.
Reporter = Annotated[Caller, key_or_session_token(Role.operator, audit=False)]
AuditedReporter = Annotated[Caller, key_or_session_token(Role.operator)]
Reader = Annotated[Caller, key_or_session_token(Role.viewer, audit=False)]
_metric_batch, _METRICS_BODY = fast_json_body(MetricBatch)
_log_batch, _LOGS_BODY = fast_json_body(LogBatch)


@router.post("/sessions/{session_id}/metrics", response_model=IngestAck, responses=errors(413, 422),
             openapi_extra=_METRICS_BODY)
async def ingest_metrics(session_id: Id, caller: Reporter, services: ServicesDep,
                         body: Annotated[MetricBatch, _metric_batch]) -> IngestAck:
    """Store a batch of metric points (at most 10000). With `batch_id`, a retried batch is stored once."""
    return await services.ingest.metrics(session_id, body, caller)


@router.post("/sessions/{session_id}/logs", response_model=IngestAck, responses=errors(413, 422),
             openapi_extra=_LOGS_BODY)
async def ingest_logs(session_id: Id, caller: Reporter, services: ServicesDep,
                      body: Annotated[LogBatch, _log_batch]) -> IngestAck:
    """Store a batch of log lines (at most 5000)."""
    return await services.ingest.logs(session_id, body, caller)


@router.post("/sessions/{session_id}/progress", response_model=IngestAck, responses=errors(422))
async def ingest_progress(session_id: Id, body: ProgressIn, caller: Reporter, services: ServicesDep) -> IngestAck:
    """Epochs done of how many (and batches, and a fitness that picks the best epoch): drives the bot's progress bar."""
    return await services.ingest.progress(session_id, body, caller)


@router.post("/sessions/{session_id}/finish", response_model=SessionRead, responses=errors(422))
async def ingest_finish(session_id: Id, body: FinishIn, caller: AuditedReporter, services: ServicesDep) -> SessionRead:
    """End the run: completed, failed (with `error`) or stopped. No reports are taken after it."""
    return await services.ingest.finish(session_id, body, caller)


@router.post("/sessions/{session_id}/artifacts", response_model=ArtifactRead, status_code=201,
             responses=errors(413, 422))
async def upload_artifact(
    session_id: Id, caller: AuditedReporter, services: ServicesDep,
    file: Annotated[UploadFile, File(description="Any file: weights, a checkpoint, a report.")],
    name: Annotated[str | None, Form(pattern=ARTIFACT_NAME, description="Default: the file's name.")] = None,
    role: Annotated[Literal["file", "checkpoint", "model"], Form(description=(
        "model: the run's weights (a cluster run's are registered as a model when it completes); checkpoint: what "
        "a resumed run continues from."))] = "file",
) -> ArtifactRead:
    """Attach a file to the run; a file of the same name is replaced."""
    chosen = name or (file.filename or "").rsplit("/", 1)[-1]
    if not ARTIFACT_NAME_RE.fullmatch(chosen):
        raise ValidationFailed.for_field("body.name", "give a name of letters, digits, '.', '_' or '-' (at most 100)")
    return await services.ingest.add_artifact(session_id, name=chosen, role=role, source=file, caller=caller)


@router.get("/sessions/{session_id}/artifacts", response_model=ArtifactList)
async def list_artifacts(session_id: Id, caller: Reader, services: ServicesDep) -> ArtifactList:
    """The files a run reported, oldest first."""
    items = await services.ingest.artifacts(session_id)
    return ArtifactList(items=items, total=len(items))


@router.get("/sessions/{session_id}/artifacts/{artifact_id}", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}}})
async def download_artifact(session_id: Id, artifact_id: Id, caller: Reader, services: ServicesDep) -> FileResponse:
    """One reported file (Range requests resume a broken download)."""
    artifact, path = await services.ingest.artifact_file(session_id, artifact_id)
    return FileResponse(path, filename=artifact.name, media_type="application/octet-stream",
                        headers={"ETag": f'"{artifact.sha256}"'})
