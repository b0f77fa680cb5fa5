"""The model registry (read side)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile
from fastapi.responses import FileResponse, Response

from api.auth.schemas import Role
from api.core.http import Id, SnapshotPage
from api.core.responses import errors
from api.dependencies import CurrentKey, ServicesDep, key_or_session_token, require_role
from api.registry.datasets.schemas import Task
from api.registry.models.schemas import ModelExport, ModelList, ModelRead, ModelUpdate

viewer = APIRouter(tags=["models"], dependencies=[require_role(Role.viewer)], responses=errors())


async def model_or_404(model_id: Id, services: ServicesDep) -> ModelRead:
    return await services.models.get(model_id)


ModelDep = Annotated[ModelRead, Depends(model_or_404)]


@viewer.get("/models", response_model=ModelList)
async def list_models(services: ServicesDep, page: SnapshotPage, task: Annotated[Task | None, Query()] = None) -> ModelList:
    """Registered models, newest first."""
    items, total = await services.models.list(limit=page.limit, offset=page.offset, task=task, as_of=page.as_of)
    return ModelList(items=items, total=total)


@viewer.get("/models/{model_id}", response_model=ModelRead, responses=errors(404))
async def get_model(model: ModelDep) -> ModelRead:
    """Task, architecture, classes, metrics, source session, size, sha256."""
    return model


readers = APIRouter(tags=["models"], responses=errors())  # keys of any role, and cluster workers' session tokens


@readers.get("/models/{model_id}/download", response_class=FileResponse, responses={
    **errors(401, 403, 404, 409), 200: {"content": {"application/octet-stream": {}}, "description": "The .pt weights."}})
async def download_model(
    model_id: Id, services: ServicesDep,
    caller: Annotated[object, key_or_session_token(Role.viewer, audit=False)],
    format: Annotated[Literal["pt", "onnx"], Query(description="pt, or an export made before.")] = "pt",
) -> FileResponse:
    """The weights file (.pt), or an export of it (?format=onnx); 409 for quarantined weights. A worker's session
    token reads its own run's base model only."""
    await services.ingest.require_input(caller, model_id=model_id)  # type: ignore[arg-type]
    model = await services.models.usable(model_id)
    path = services.models.path_of(model.id) if format == "pt" else services.models.exported_path(model.id, format)
    return FileResponse(path, media_type="application/octet-stream",
                        filename=f"model-{model.id}-{model.architecture}.{format}")


operator = APIRouter(tags=["models"], dependencies=[require_role(Role.operator)], responses=errors())
admin = APIRouter(tags=["models"], dependencies=[require_role(Role.admin)], responses=errors())


@admin.post("/models", response_model=ModelRead, status_code=201, responses=errors(409, 413, 415, 503))
async def upload_model(
    key: CurrentKey,
    services: ServicesDep,
    file: Annotated[UploadFile, File(description="Ultralytics .pt weights (detect or classify).")],
    name: Annotated[str | None, Form(max_length=100)] = None,
) -> ModelRead:
    """Upload weights; the pickle is scanned against an allow-list before anything loads it."""
    return await services.models.upload(file, filename=file.filename, name=name, created_by=key.id,
                                        max_bytes=services.settings.max_upload_bytes)


@operator.delete("/models/{model_id}", status_code=204, responses=errors(404, 409))
async def delete_model(model: ModelDep, key: CurrentKey, services: ServicesDep) -> Response:
    """Delete a model (operators: only their own) unless a queued or running session fine-tunes it."""
    await services.models.delete(model.id, key=key)
    return Response(status_code=204)


@operator.post("/models/{model_id}/export", response_model=ModelExport, status_code=201, responses=errors(404, 503))
async def export_model(
    model: ModelDep, services: ServicesDep,
    format: Annotated[Literal["onnx"], Query(description="Export format.")] = "onnx",
    imgsz: Annotated[int | None, Query(ge=32, le=2048, multiple_of=32,
                                       description="Default: the model's training size.")] = None,
) -> ModelExport:
    """Export the model (ONNX, dynamic shapes), offline, in a separate process; download it with ?format=onnx.
    Recognition's runtime=auto then serves the model with ONNX Runtime."""
    size, imgsz = await services.models.export(model.id, export_format=format, imgsz=imgsz,
                                               config_dir=services.settings.data_dir / "ultralytics")
    return ModelExport(model_id=model.id, format=format, imgsz=imgsz, size_bytes=size,
                       download_url=f"/api/v1/models/{model.id}/download?format={format}")


@operator.patch("/models/{model_id}", response_model=ModelRead, responses=errors(404, 409, 415))
async def update_model(model: ModelDep, body: ModelUpdate, key: CurrentKey, services: ServicesDep) -> ModelRead:
    """auto_export: true makes an ONNX export in the background (recognition then serves it with ONNX Runtime).
    Operators: only their own models."""
    return await services.models.set_auto_export(model.id, body.auto_export, key=key)


viewer.include_router(operator)
viewer.include_router(admin)
router = APIRouter()
router.include_router(viewer)
router.include_router(readers)
