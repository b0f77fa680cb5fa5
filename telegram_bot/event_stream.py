"""Follows the server's WS /events with reconnect and backoff; tells its owner when it is up or down."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus, WebSocketException

logger = logging.getLogger(__name__)

EventHandler = Callable[[dict[str, Any]], Awaitable[None]]
StateHandler = Callable[[bool], Awaitable[None]]


def events_url(api_base_url: str, topics: str) -> str:
    """http://host/api/v1 -> ws://host/api/v1/events?topics=..."""
    base = api_base_url.rstrip("/")
    scheme, rest = base.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/events?topics={topics}"


class EventStream:
    """Connects, hands each event to `on_event`, and on any failure retries with growing delays."""

    def __init__(self, url: str, api_key: str, *, on_event: EventHandler, on_state: StateHandler,
                 min_delay_s: float = 0.5, max_delay_s: float = 15.0) -> None:
        self._url, self._api_key = url, api_key
        self._on_event, self._on_state = on_event, on_state
        self._min_delay_s, self._max_delay_s = min_delay_s, max_delay_s
        self.connected: bool | None = None  # unknown until the first try: its failure is reported too

    async def run(self) -> None:
        delay = self._min_delay_s
        while True:
            try:
                await self._follow_once()
                delay = self._min_delay_s  # it was up: start the backoff afresh
            except asyncio.CancelledError:
                raise
            except (TimeoutError, OSError, WebSocketException) as exc:
                # The key is in a header, never in the URL, so the error text cannot leak it.
                logger.info("event stream unavailable (%s: %s), retry in %.1fs", type(exc).__name__, exc, delay)
                if isinstance(exc, InvalidStatus) and exc.response.status_code in (401, 403):
                    logger.error("the server refused the bot's API key on WS /events")
            await self._set_state(False)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_delay_s)

    async def _follow_once(self) -> None:
        # Pings find a connection that died silently (NAT, Wi-Fi) within ~12 s; the server answers them in ms.
        async with connect(self._url, additional_headers={"X-API-Key": self._api_key}, open_timeout=5,
                           ping_interval=5, ping_timeout=5, close_timeout=2, proxy=None) as websocket:
            await self._set_state(True)
            async for raw in websocket:
                try:
                    event = json.loads(raw)
                except ValueError:
                    continue
                try:
                    await self._on_event(event)
                except Exception:
                    logger.exception("event handler failed on %s", event.get("type"))

    async def _set_state(self, connected: bool) -> None:
        if connected == self.connected:
            return
        self.connected = connected
        try:
            await self._on_state(connected)
        except Exception:
            logger.exception("state handler failed")
