"""Datasets: the built-in ones and uploaded zip archives."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from fastapi.responses import FileResponse, Response

from api.auth.schemas import Role
from api.core.http import Id, SnapshotPage
from api.core.responses import errors
from api.dependencies import CurrentKey, ServicesDep, key_or_session_token, require_role
from api.registry.datasets.samples import render_sample
from api.registry.datasets.schemas import DatasetList, DatasetRead, Task

viewer = APIRouter(tags=["datasets"], dependencies=[require_role(Role.viewer)], responses=errors())
operator = APIRouter(tags=["datasets"], dependencies=[require_role(Role.operator)], responses=errors())


async def dataset_or_404(dataset_id: Id, services: ServicesDep) -> DatasetRead:
    return await services.datasets.get(dataset_id)


DatasetDep = Annotated[DatasetRead, Depends(dataset_or_404)]


@viewer.get("/datasets", response_model=DatasetList)
async def list_datasets(services: ServicesDep, page: SnapshotPage, task: Annotated[Task | None, Query()] = None) -> DatasetList:
    """Registered datasets, the built-in `shapes` ones included."""
    items, total = await services.datasets.list(limit=page.limit, offset=page.offset, task=task, as_of=page.as_of)
    return DatasetList(items=items, total=total)


@viewer.get("/datasets/{dataset_id}", response_model=DatasetRead, responses=errors(404))
async def get_dataset(dataset: DatasetDep) -> DatasetRead:
    """One dataset: task, classes, images per split, instances per class."""
    return dataset


@operator.post("/datasets", response_model=DatasetRead, status_code=201, responses=errors(409, 413, 415, 503))
async def upload_dataset(
    key: CurrentKey,
    services: ServicesDep,
    file: Annotated[UploadFile, File(description="A .zip: YOLO detection (data.yaml, images/, labels/) or "
                                                 "classification (train/<class>/, val/<class>/).")],
    name: Annotated[str | None, Form(max_length=100)] = None,
    task: Annotated[Task | None, Form(description="Default: recognised from the archive.")] = None,
) -> DatasetRead:
    """Upload a dataset archive; it is checked and validated before anything is kept."""
    return await services.datasets.upload(file, filename=file.filename, name=name, task=task, created_by=key.id,
                                          max_bytes=services.settings.max_upload_bytes)


@operator.delete("/datasets/{dataset_id}", status_code=204, responses=errors(404, 409))
async def delete_dataset(dataset: DatasetDep, key: CurrentKey, services: ServicesDep) -> Response:
    """Delete a dataset (operators: only their own) unless a queued or running session uses it."""
    await services.datasets.delete(dataset.id, key=key)
    return Response(status_code=204)


@viewer.get("/datasets/{dataset_id}/samples/{n}", response_class=Response, responses={
    **errors(404), 200: {"content": {"image/jpeg": {}}, "description": "Sample n with its labels drawn."}})
async def get_dataset_sample(
    dataset: DatasetDep, services: ServicesDep, n: Annotated[int, Path(ge=0, le=10_000_000)]
) -> Response:
    """Image n (train, then val, then test) with its boxes or class drawn, as JPEG."""
    jpeg = await services.pools.render.run(render_sample, services.datasets.path_of(dataset), dataset.task,
                                           dataset.classes, n)
    return Response(jpeg, media_type="image/jpeg")


readers = APIRouter(tags=["datasets"], responses=errors())  # keys of any role, and cluster workers' session tokens


@readers.get("/datasets/{dataset_id}/archive", response_class=FileResponse, responses={
    **errors(401, 403, 404), 200: {"content": {"application/x-tar": {}}, "description": "The dataset as one tar."}})
async def download_dataset_archive(
    dataset_id: Id, services: ServicesDep,
    caller: Annotated[object, key_or_session_token(Role.operator, audit=False)],
) -> FileResponse:
    """The dataset as one deterministic tar; its ETag is its sha256 (how cluster nodes cache it by content).
    Range requests resume a broken download. Operators (viewers see samples, not whole datasets); a worker's
    session token reads its own run's dataset only."""
    await services.ingest.require_input(caller, dataset_id=dataset_id)  # type: ignore[arg-type]
    archive = await services.datasets.archive(dataset_id)
    return FileResponse(archive.path, media_type="application/x-tar", filename=f"dataset-{dataset_id}.tar",
                        headers={"ETag": f'"{archive.sha256}"'})


router = APIRouter()
router.include_router(viewer)
router.include_router(operator)
router.include_router(readers)
