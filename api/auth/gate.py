"""The key is checked before any request body is read: a stranger's 500 MB upload costs us one header parse.

RequestGuard (api/core/middleware.py) asks this gate, per request that declares a body, how many body bytes
it may read. Uploads get the upload limit, and only for keys whose role may upload there; every other body
(JSON) gets the small JSON limit. The key found here is kept in the scope, so the route does not check it twice."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from starlette.types import Scope

from api.auth.schemas import Role
from api.auth.service import AuthManager
from api.core.errors import Forbidden
from api.training.ingest.tokens import SessionTokens, is_session_token

PUBLIC_PATHS = frozenset({"/api/v1/health"})
# What a cluster worker's session token may send: reports into its own session, nothing else.
TOKEN_WRITES = re.compile(r"^/api/v1/sessions/(\d{1,18})/(metrics|logs|progress|finish|artifacts)\Z")


def key_from_headers(headers: Mapping[str, str]) -> str | None:
    if headers.get("x-api-key"):
        return headers["x-api-key"]
    bearer = headers.get("authorization", "")
    return bearer[7:].strip() or None if bearer.lower().startswith("bearer ") else None


class BodyGate:
    def __init__(self, auth: Callable[[], AuthManager], *, uploads: Mapping[tuple[str, str], Role], upload_bytes: int,
                 json_bytes: int, prefix: str = "/api/v1", tokens: Callable[[], SessionTokens] | None = None,
                 upload_patterns: Sequence[tuple[str, re.Pattern[str], Role]] = ()) -> None:
        self._auth, self._uploads, self._tokens, self._patterns = auth, uploads, tokens, upload_patterns
        self._upload_bytes, self._json_bytes, self._prefix = upload_bytes, json_bytes, prefix

    def __call__(self, scope: Scope) -> int:
        """The body limit for this request; raises 401/403/429 for a key that may not send it."""
        method, path = scope["method"], scope["path"]
        if not path.startswith(self._prefix) or path in PUBLIC_PATHS:
            return self._json_bytes
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        client = scope["client"][0] if scope.get("client") else "unknown"
        plain = key_from_headers(headers)
        if is_session_token(plain) and self._tokens is not None:
            return self._token_limit(scope, plain, method, path)  # type: ignore[arg-type]
        auth = self._auth()
        key = auth.authenticate(plain, client=client, method=method, path=path)
        scope.setdefault("state", {})["api_key"] = key
        role = self._uploads.get((method, path)) or next(
            (role for m, pattern, role in self._patterns if m == method and pattern.match(path)), None)
        if role is None:
            return self._json_bytes
        auth.authorize(key, role, client=client, method=method, path=path)
        return self._upload_bytes

    def _token_limit(self, scope: Scope, plain: str, method: str, path: str) -> int:
        tokens = self._tokens()  # type: ignore[misc]
        match = TOKEN_WRITES.match(path)
        if method != "POST" or match is None:
            tokens.check(plain, None)  # 401 for a bad or expired one; a good one is just at the wrong door
            raise Forbidden("A session token only reports into its own session.", code="token_scope")
        grant = tokens.check(plain, int(match.group(1)))
        scope.setdefault("state", {})["session_grant"] = grant
        return self._upload_bytes if match.group(2) == "artifacts" else self._json_bytes
