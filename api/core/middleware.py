"""Pure-ASGI middleware: request ids, body limits, content types, latency metrics, last-resort 500."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.errors import AppError, InternalError, PayloadTooLarge, RequestTimeout, UnsupportedMediaType, as_app_error
from api.core.telemetry import Telemetry

logger = logging.getLogger(__name__)

REFUSED_DRAIN_BYTES = 64 * 1024  # what an answer before the body waits to read (a reset could swallow it)
# YAML: PUT /streams/config takes the file users keep by hand; every other route parses JSON or forms only.
_BODY_TYPES = ("application/json", "multipart/form-data", "application/x-www-form-urlencoded", "application/yaml",
               "application/x-yaml", "text/yaml")


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


async def send_json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    payload = json.dumps(body).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


class RequestGuard:
    """Outermost app middleware; everything it refuses is refused before the route reads the body."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, telemetry: Telemetry, body_idle_timeout_s: float = 30.0,
                 body_limit: Callable[[Scope], int] | None = None) -> None:
        """`body_limit(scope)` may refuse the request (an AppError) before its body is read, or lower the limit."""
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.body_limit = body_limit
        self.telemetry = telemetry
        self.body_idle_timeout_s = body_idle_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_holder = [500]
        response_started = [False]
        limit = [self.max_body_bytes]
        request_body = _BodyState(self._limited(receive, limit), expects_body=_declares_body(scope),
                                  idle_timeout_s=self.body_idle_timeout_s)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                if message["status"] >= 400:
                    await request_body.drain()
                response_started[0] = True
                status_holder[0] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            if self.body_limit is not None and _declares_body(scope):
                request_body.drain_cap = REFUSED_DRAIN_BYTES  # refused here: read a little of the body, no more
                limit[0] = min(self.max_body_bytes, self.body_limit(scope))
                request_body.drain_cap = None
            self._check_headers(scope, limit[0])
            await self.app(scope, request_body.receive, send_with_id)
        except Exception as exc:
            error = as_app_error(exc)
            if error is None:
                logger.exception("unhandled error, request id %s, %s %s", request_id, scope["method"], scope["path"])
                error = InternalError("Internal server error.", details={"request_id": request_id})
            elif error.code == "disk_full":
                logger.error("disk full: %s %s stored nothing (%s)", scope["method"], scope["path"], exc)
            if response_started[0]:
                raise
            if isinstance(error, PayloadTooLarge):
                request_body.complete = True  # too large is too large to read: the client may see a reset
            await send_json(send_with_id, error.status_code, error_body(error.code, error.message, error.details),
                            error.headers)
        finally:
            route = scope.get("route")
            template = getattr(route, "path_format", None) or getattr(route, "path", None) or "unmatched"
            self.telemetry.observe_request(scope["method"], template, status_holder[0], time.perf_counter() - started)

    def _check_headers(self, scope: Scope, limit: int) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            raise _too_large(limit)
        has_body = _declares_body(scope)
        if scope["method"] in ("POST", "PUT", "PATCH") and has_body:
            content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
            if content_type not in _BODY_TYPES:
                raise UnsupportedMediaType(
                    f"Content-Type {content_type or '(none)'!r} is not accepted.",
                    details={"accepted": list(_BODY_TYPES)},
                )

    @staticmethod
    def _limited(receive: Receive, limit: list[int]) -> Callable[[], Any]:
        """Counts body bytes as they stream in: a missing or lying Content-Length cannot bypass the cap."""
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit[0]:
                    raise _too_large(limit[0])
            return message

        return limited_receive


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The request body is larger than the limit of {limit} bytes.", details={"max_bytes": limit})


def _declares_body(scope: Scope) -> bool:
    headers = dict(scope["headers"])
    length = headers.get(b"content-length")
    return (length is not None and length != b"0") or b"transfer-encoding" in headers


class _BodyState:
    """Knows whether the request body was read to its end. An error answered before that (a multipart part over
    its limit, say) first reads the rest, bounded by the body cap and a timeout: a connection closed with unread
    data is reset, and the reset would swallow the answer that says what was wrong."""

    DRAIN_TIMEOUT_S = 2.0

    def __init__(self, receive: Receive, *, expects_body: bool, idle_timeout_s: float) -> None:
        self._receive = receive
        self.complete = not expects_body
        self._idle_timeout_s = idle_timeout_s
        self.drain_cap: int | None = None  # bytes a drain may read before giving up on the rest
        self._received = 0

    async def receive(self) -> Message:
        if self.complete:  # later receives wait for a disconnect (SSE): no timeout there
            return await self._receive()
        try:
            async with asyncio.timeout(self._idle_timeout_s):
                message = await self._receive()
        except TimeoutError:  # a body that stops arriving (a lying Content-Length, a slow-loris) holds nothing
            self.complete = True
            raise RequestTimeout(f"No request body arrived for {self._idle_timeout_s:g} s.") from None
        self._received += len(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.complete = True
        return message

    async def drain(self) -> None:
        try:
            async with asyncio.timeout(self.DRAIN_TIMEOUT_S):
                while not self.complete and (self.drain_cap is None or self._received < self.drain_cap):
                    await self.receive()
        except (TimeoutError, AppError):  # a client that stalls or sends past the cap is not waited for longer
            self.complete = True


class SecurityHeaders:
    """Headers every response carries: no MIME sniffing, no framing, no referrer leaks."""

    HEADERS = ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
               (b"referrer-policy", b"no-referrer"), (b"cross-origin-resource-policy", b"same-origin"))

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)
