"""How uvicorn serves the app (run_api.py and the tests' live server): the same hardened settings for both."""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from api.core.settings import Settings

HEADER_TIMEOUT_S = 10.0


class HeaderDeadlineProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for a request's headers: uvicorn has none, so a client that
    sends a header byte now and then (slow loris) held its connection for ever; 200 of them held 60 s in a test.
    The deadline starts when the connection waits for a request and is not reset by trickling bytes."""

    header_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def data_received(self, data: bytes) -> None:
        if self.header_deadline is None and self.conn.their_state is h11.IDLE:
            self._arm_header_deadline()  # the next request of a keep-alive connection starts arriving
        super().data_received(data)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE and self.header_deadline is not None:
            self.header_deadline.cancel()  # the headers are in: the body has its own idle timeout
            self.header_deadline = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.header_deadline is not None:
            self.header_deadline.cancel()
        super().connection_lost(exc)

    def _arm_header_deadline(self) -> None:
        self.header_deadline = self.loop.call_later(HEADER_TIMEOUT_S, self.timeout_keep_alive_handler)


def server_config(app: Any, settings: Settings, **overrides: Any) -> uvicorn.Config:
    """No `server: uvicorn` banner; X-Forwarded-For only through TRUSTED_PROXIES (main.py), never from any peer;
    a connection cap answered with 503 at once; idle keep-alive connections closed after 5 s, and connections
    whose request headers take over 10 s closed too."""
    options: dict[str, Any] = {
        "host": settings.host, "port": settings.port, "log_level": settings.log_level, "log_config": None,
        "proxy_headers": False, "server_header": False, "limit_concurrency": settings.max_connections,
        "timeout_keep_alive": 5, "http": HeaderDeadlineProtocol,
    }
    return uvicorn.Config(app, **{**options, **overrides})
