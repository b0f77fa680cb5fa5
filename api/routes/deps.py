"""Dependencies shared by routes: services, the current key, role checks, paging.

All are `async def` although none awaits: FastAPI runs a plain `def` dependency in its threadpool, a thread
hop per dependency per request that costs milliseconds at p99 when a training run keeps the cores busy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.models.auth import ApiKeyRead, Role
from api.models.common import MAX_ID
from api.services.container import Services

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key.")
_bearer = HTTPBearer(auto_error=False, description="The same API key as a bearer token.")


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def require_key(
    request: Request,
    services: ServicesDep,
    header_key: Annotated[str | None, Depends(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKeyRead:
    plain = header_key or (bearer.credentials if bearer else None)
    return services.auth.authenticate(
        plain, client=client_address(request), method=request.method, path=request.url.path
    )


CurrentKey = Annotated[ApiKeyRead, Depends(require_key)]


def require_role(role: Role) -> object:
    """A dependency that lets through keys of `role` or higher."""

    async def check(request: Request, key: CurrentKey, services: ServicesDep) -> ApiKeyRead:
        services.auth.authorize(key, role, client=client_address(request), method=request.method, path=request.url.path)
        return key

    return Depends(check)


async def on_behalf_of(request: Request) -> str | None:
    """The X-On-Behalf-Of header (e.g. "tg:12345") the bot sends to attribute actions to a user."""
    value = request.headers.get("x-on-behalf-of")
    return value[:100] if value else None


OnBehalfOf = Annotated[str | None, Depends(on_behalf_of)]


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int
    offset: int


async def page_params(
    limit: Annotated[int, Query(ge=1, le=1000, description="Items per page.")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


Page = Annotated[PageParams, Depends(page_params)]


Id = Annotated[int, Path(ge=1, le=MAX_ID, description="An id (1 or more).")]
