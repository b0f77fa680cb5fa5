"""GET /audit: who changed what, when, and how it ended (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.audit.schemas import AuditList, AuditQuery
from api.auth.schemas import Role
from api.core.http import Page
from api.core.responses import errors
from api.core.schemas import MAX_ID
from api.dependencies import ServicesDep, require_role

router = APIRouter(tags=["audit"], dependencies=[require_role(Role.admin)], responses=errors())


@router.get("/audit", response_model=AuditList)
async def list_audit(
    services: ServicesDep, page: Page,
    key_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Only this key's requests.")] = None,
    action: Annotated[str | None, Query(max_length=100, description="e.g. create_session, delete_model.")] = None,
    target: Annotated[str | None, Query(max_length=200, description="e.g. sessions/12.")] = None,
    since: Annotated[float | None, Query(ge=0, description="Unix time, inclusive.")] = None,
    until: Annotated[float | None, Query(ge=0, description="Unix time, exclusive.")] = None,
) -> AuditList:
    """Every write request of a known key, newest first: time, key, X-On-Behalf-Of, address, action, target,
    outcome (ok / rejected / failed) and status."""
    query = AuditQuery(key_id=key_id, action=action, target=target, since=since, until=until)
    items, total = await services.audit.page(query, limit=page.limit, offset=page.offset)
    return AuditList(items=items, total=total)
