"""Kits: named expected sets of objects (class name -> count) that recognitions check by id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.auth.schemas import Role
from api.core.http import Id, SnapshotPage
from api.core.responses import errors
from api.core.schemas import MAX_ID
from api.dependencies import CurrentKey, ServicesDep, require_role
from api.recognition.kits_schemas import KitCreate, KitList, KitRead, KitUpdate

viewer = APIRouter(tags=["kits"], dependencies=[require_role(Role.viewer)], responses=errors())
operator = APIRouter(tags=["kits"], dependencies=[require_role(Role.operator)], responses=errors())


async def kit_or_404(kit_id: Id, services: ServicesDep) -> KitRead:
    return await services.kits.get(kit_id)


KitDep = Annotated[KitRead, Depends(kit_or_404)]


@operator.post("/kits", response_model=KitRead, status_code=201, responses=errors(409))
async def create_kit(body: KitCreate, key: CurrentKey, services: ServicesDep) -> KitRead:
    """Create a kit; with `model`, every item must be one of that model's classes."""
    return await services.kits.create(body, key=key)


@viewer.get("/kits", response_model=KitList)
async def list_kits(services: ServicesDep, page: SnapshotPage,
                    model: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None) -> KitList:
    """Kits, newest first, optionally only those of a model."""
    items, total = await services.kits.list(model_id=model, limit=page.limit, offset=page.offset, as_of=page.as_of)
    return KitList(items=items, total=total)


@viewer.get("/kits/{kit_id}", response_model=KitRead, responses=errors(404))
async def get_kit(kit: KitDep) -> KitRead:
    """One kit."""
    return kit


@operator.patch("/kits/{kit_id}", response_model=KitRead, responses=errors(404, 409))
async def update_kit(kit: KitDep, body: KitUpdate, key: CurrentKey, services: ServicesDep) -> KitRead:
    """Rename a kit, replace its items or (un)bind its model (its creator or an admin)."""
    return await services.kits.update(kit, body, key=key)


@operator.delete("/kits/{kit_id}", status_code=204, responses=errors(404))
async def delete_kit(kit: KitDep, key: CurrentKey, services: ServicesDep) -> Response:
    """Delete a kit (its creator or an admin); recognitions that checked it keep their results."""
    await services.kits.delete(kit, key=key)
    return Response(status_code=204)


router = APIRouter()
router.include_router(viewer)
router.include_router(operator)
