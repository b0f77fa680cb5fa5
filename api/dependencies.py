"""Dependencies that need the app's services: the services themselves, the current key, role checks.

`async def` for the reason given in api/core/http.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.audit.middleware import arm as arm_audit
from api.auth.schemas import ApiKeyRead, Role
from api.container import Services
from api.core.http import API_PREFIX, client_address
from api.training.ingest.tokens import SessionGrant, is_session_token

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key.")
_bearer = HTTPBearer(auto_error=False, description="The same API key as a bearer token.")


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def require_key(
    request: Request,
    services: ServicesDep,
    header_key: Annotated[str | None, Depends(_api_key_header)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> ApiKeyRead:
    checked: ApiKeyRead | None = request.scope.get("state", {}).get("api_key")
    if checked is not None:  # the body gate already checked (and recorded) it, before reading the body
        return checked
    plain = header_key or (bearer.credentials if bearer else None)
    key = services.auth.authenticate(plain, client=client_address(request), method=request.method,
                                     path=request.url.path)
    request.scope.setdefault("state", {})["api_key"] = key  # the audit trail names who asked, even if refused
    return key


CurrentKey = Annotated[ApiKeyRead, Depends(require_key)]


def require_role(role: Role) -> object:
    """A dependency that lets through keys of `role` or higher."""

    async def check(request: Request, key: CurrentKey, services: ServicesDep) -> ApiKeyRead:
        services.auth.authorize(key, role, client=client_address(request), method=request.method, path=request.url.path)
        arm_audit(request.scope, key.id, API_PREFIX, services.audit)
        return key

    return Depends(check)


def key_or_session_token(role: Role, *, audit: bool = True) -> object:
    """A key of `role` or higher, or a cluster worker's session token for the session in the path (checked against
    `session_id`; the body gate already checked a token that sent a body)."""

    async def check(
        request: Request, services: ServicesDep,
        header_key: Annotated[str | None, Depends(_api_key_header)],
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> ApiKeyRead | SessionGrant:
        grant: SessionGrant | None = request.scope.get("state", {}).get("session_grant")
        if grant is not None:
            return grant
        plain = header_key or (bearer.credentials if bearer else None)
        if is_session_token(plain):
            return services.ingest.tokens.check(plain, int(request.path_params.get("session_id", 0)) or None)  # type: ignore[arg-type]
        key = await require_key(request, services, header_key, bearer)
        services.auth.authorize(key, role, client=client_address(request), method=request.method, path=request.url.path)
        if audit:
            arm_audit(request.scope, key.id, API_PREFIX, services.audit)
        return key

    return Depends(check)
