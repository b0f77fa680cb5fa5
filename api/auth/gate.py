"""The key is checked before any request body is read: a stranger's 500 MB upload costs us one header parse.

RequestGuard (api/core/middleware.py) asks this gate, per request that declares a body, how many body bytes
it may read. Uploads get the upload limit, and only for keys whose role may upload there; every other body
(JSON) gets the small JSON limit. The key found here is kept in the scope, so the route does not check it twice."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.types import Scope

from api.auth.schemas import Role
from api.auth.service import AuthManager

PUBLIC_PATHS = frozenset({"/api/v1/health"})


def key_from_headers(headers: Mapping[str, str]) -> str | None:
    if headers.get("x-api-key"):
        return headers["x-api-key"]
    bearer = headers.get("authorization", "")
    return bearer[7:].strip() or None if bearer.lower().startswith("bearer ") else None


class BodyGate:
    def __init__(self, auth: Callable[[], AuthManager], *, uploads: Mapping[tuple[str, str], Role], upload_bytes: int,
                 json_bytes: int, prefix: str = "/api/v1") -> None:
        self._auth, self._uploads = auth, uploads
        self._upload_bytes, self._json_bytes, self._prefix = upload_bytes, json_bytes, prefix

    def __call__(self, scope: Scope) -> int:
        """The body limit for this request; raises 401/403/429 for a key that may not send it."""
        method, path = scope["method"], scope["path"]
        if not path.startswith(self._prefix) or path in PUBLIC_PATHS:
            return self._json_bytes
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        client = scope["client"][0] if scope.get("client") else "unknown"
        auth = self._auth()
        key = auth.authenticate(key_from_headers(headers), client=client, method=method, path=path)
        scope.setdefault("state", {})["api_key"] = key
        role = self._uploads.get((method, path))
        if role is None:
            return self._json_bytes
        auth.authorize(key, role, client=client, method=method, path=path)
        return self._upload_bytes
