"""The model registry (read side)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import FileResponse

from api.models.auth import Role
from api.models.datasets import Task
from api.models.registry import ModelList, ModelRead
from api.routes.deps import Page, ServicesDep, require_role
from api.routes.responses import errors

router = APIRouter(tags=["models"], dependencies=[require_role(Role.viewer)], responses=errors())


async def model_or_404(model_id: int, services: ServicesDep) -> ModelRead:
    return await services.models.get(model_id)


ModelDep = Annotated[ModelRead, Depends(model_or_404)]


@router.get("/models", response_model=ModelList)
async def list_models(services: ServicesDep, page: Page, task: Annotated[Task | None, Query()] = None) -> ModelList:
    """Registered models, newest first."""
    items, total = await services.models.list(limit=page.limit, offset=page.offset, task=task)
    return ModelList(items=items, total=total)


@router.get("/models/{model_id}", response_model=ModelRead, responses=errors(404))
async def get_model(model: ModelDep) -> ModelRead:
    """Task, architecture, classes, metrics, source session, size, sha256."""
    return model


@router.get("/models/{model_id}/download", response_class=FileResponse, responses={
    **errors(404), 200: {"content": {"application/octet-stream": {}}, "description": "The .pt weights."}})
async def download_model(model: ModelDep, services: ServicesDep) -> FileResponse:
    """The weights file (.pt)."""
    return FileResponse(services.models.path_of(model.id), media_type="application/octet-stream",
                        filename=f"model-{model.id}-{model.architecture}.pt")
