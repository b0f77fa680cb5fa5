"""API keys and the auth log."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyRead, AuthAttemptList, Role, WhoAmI
from api.core.http import Id, OnBehalfOf, Page, SnapshotPage
from api.core.responses import errors
from api.dependencies import CurrentKey, ServicesDep, require_role

router = APIRouter(tags=["auth"])
admin = APIRouter(tags=["auth"], dependencies=[require_role(Role.admin)], responses=errors())

Outcome = Literal["ok", "unknown_key", "revoked_key", "missing_key", "locked_out", "forbidden"]


@router.get("/auth/me", response_model=WhoAmI, responses=errors())
async def get_me(key: CurrentKey, behalf: OnBehalfOf) -> WhoAmI:
    """The key this request was made with, and its role."""
    return WhoAmI(key=key, on_behalf_of=behalf)


@admin.get("/keys", response_model=ApiKeyList)
async def list_keys(services: ServicesDep, page: Page) -> ApiKeyList:
    """All API keys (never the keys themselves)."""
    items, total = services.auth.list_keys(limit=page.limit, offset=page.offset)
    return ApiKeyList(items=items, total=total)


@admin.post("/keys", response_model=ApiKeyCreated, status_code=201)
async def create_key(body: ApiKeyCreate, key: CurrentKey, services: ServicesDep) -> ApiKeyCreated:
    """Create a key; the plain key is in this response only."""
    return await services.auth.create_key(name=body.name, role=body.role, created_by=key.id)


@admin.delete("/keys/{key_id}", response_model=ApiKeyRead, responses=errors(404, 409))
async def revoke_key(key_id: Id, services: ServicesDep) -> ApiKeyRead:
    """Revoke a key; requests with it get 401 from now on."""
    return await services.auth.revoke_key(key_id)


@admin.get("/auth/attempts", response_model=AuthAttemptList)
async def list_auth_attempts(
    services: ServicesDep, page: SnapshotPage, outcome: Annotated[Outcome | None, Query()] = None
) -> AuthAttemptList:
    """Every authentication attempt, newest first (key id, client address, path, outcome)."""
    return await services.auth.list_attempts(limit=page.limit, offset=page.offset, outcome=outcome, as_of=page.as_of)


router.include_router(admin)
