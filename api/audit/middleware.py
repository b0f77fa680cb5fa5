"""The HTTP side of the audit trail: an entry per write request, described from the matched route, settled
with the response's status. Pure ASGI (no body buffering): uploads stream through untouched."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.audit.schemas import PendingEntry
from api.audit.trail import AuditTrail

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def pending_entry(scope: Scope) -> PendingEntry | None:
    entry: PendingEntry | None = scope.get("state", {}).get("audit")
    return entry


def describe(entry: PendingEntry, scope: Scope, prefix: str) -> None:
    """Action and target from the route FastAPI matched: `stop_session`, `sessions/12`; a POST to a collection
    (`/sessions`) targets the row it creates."""
    endpoint, route = scope.get("endpoint"), scope.get("route")
    if endpoint is None or route is None:
        entry.action = "unknown_route"
        return
    entry.action = getattr(endpoint, "__name__", "unknown_route")
    path: str = getattr(route, "path", "").removeprefix(prefix).strip("/")
    segments = path.split("/")
    params = scope.get("path_params", {})
    last_param = max((i for i, part in enumerate(segments) if part.startswith("{")), default=-1)
    if last_param >= 0:
        kept = segments[: last_param + 1]
        entry.target = "/".join(str(params.get(part.strip("{}"), part)) for part in kept)[:200]
    else:
        entry.target = path[:200]
        entry.creates = entry.method == "POST"


def arm(scope: Scope, key_id: int, prefix: str, trail: AuditTrail) -> None:
    """Called once the key is authorized for the route: its change will carry the row."""
    entry = pending_entry(scope)
    if entry is None or entry.closed:
        return
    entry.key_id = key_id
    describe(entry, scope, prefix)
    trail.arm(entry)


class AuditMiddleware:
    def __init__(self, app: ASGIApp, trail: Callable[[], AuditTrail], prefix: str) -> None:
        self.app, self.trail, self.prefix = app, trail, prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WRITE_METHODS or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        behalf = headers.get(b"x-on-behalf-of", b"").decode("latin-1")[:100] or None
        client = scope.get("client")
        entry = PendingEntry(method=scope["method"], path=scope["path"][:500], client=client[0] if client else None,
                             on_behalf_of=behalf)
        scope.setdefault("state", {})["audit"] = entry

        async def send_settled(message: Message) -> None:
            if message["type"] == "http.response.start":  # settled before the client hears back: a GET /audit
                await self._finish(entry, scope, message["status"])  # right after sees the row
            await send(message)

        try:
            await self.app(scope, receive, send_settled)
        finally:
            if not entry.closed:  # the app raised before answering
                await self._finish(entry, scope, 500)

    async def _finish(self, entry: PendingEntry, scope: Scope, status: int) -> None:
        key: Any = scope.get("state", {}).get("api_key")
        if entry.key_id is None and key is not None:  # authenticated but refused before arming (403, 413, 422)
            entry.key_id = key.id
            describe(entry, scope, self.prefix)
        await self.trail().finish(entry, status)
