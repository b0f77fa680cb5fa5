"""Datasets (read side)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.models.auth import Role
from api.models.datasets import DatasetList, DatasetRead, Task
from api.routes.deps import Page, ServicesDep, require_role
from api.routes.responses import errors

router = APIRouter(tags=["datasets"], dependencies=[require_role(Role.viewer)], responses=errors())


async def dataset_or_404(dataset_id: int, services: ServicesDep) -> DatasetRead:
    return await services.datasets.get(dataset_id)


@router.get("/datasets", response_model=DatasetList)
async def list_datasets(services: ServicesDep, page: Page, task: Annotated[Task | None, Query()] = None) -> DatasetList:
    """Registered datasets, the built-in `shapes` ones included."""
    items, total = await services.datasets.list(limit=page.limit, offset=page.offset, task=task)
    return DatasetList(items=items, total=total)


@router.get("/datasets/{dataset_id}", response_model=DatasetRead, responses=errors(404))
async def get_dataset(dataset: Annotated[DatasetRead, Depends(dataset_or_404)]) -> DatasetRead:
    """One dataset: task, classes, images per split, instances per class."""
    return dataset
