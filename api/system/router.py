"""CPU / RAM / disk / GPU samples."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth.schemas import Role
from api.core.http import Page
from api.core.responses import errors
from api.dependencies import ServicesDep, require_role
from api.system.schemas import SystemHistory, SystemSample

router = APIRouter(tags=["system"], dependencies=[require_role(Role.viewer)], responses=errors())


@router.get("/system", response_model=SystemSample, responses=errors(503))
async def get_system(services: ServicesDep) -> SystemSample:
    """The latest sample (taken in the background; this call does no measuring)."""
    return services.monitor.latest


@router.get("/system/history", response_model=SystemHistory)
async def get_system_history(
    services: ServicesDep,
    page: Page,
    minutes: Annotated[float, Query(gt=0, le=60 * 24 * 366, description="How far back.")] = 60,
) -> SystemHistory:
    """Samples of the last `minutes`, oldest first."""
    items, total = await services.monitor.history(minutes=minutes, limit=page.limit, offset=page.offset)
    return SystemHistory(items=items, total=total)
