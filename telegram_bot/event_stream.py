"""Follows the server's WS /events through websockets' reconnecting connect(); tells its owner when it is up or down."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial

from pydantic import ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.client import backoff
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

from telegram_bot.schemas import ServerEvent

logger = logging.getLogger(__name__)

EventHandler = Callable[[ServerEvent], Awaitable[None]]
StateHandler = Callable[[bool], Awaitable[None]]


def events_url(api_base_url: str, topics: str) -> str:
    """http://host/api/v1 -> ws://host/api/v1/events?topics=..."""
    base = api_base_url.rstrip("/")
    scheme, rest = base.split("://", 1)
    return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/events?topics={topics}"


class EventStream:
    """Hands each event to `on_event`; reports every change of `connected` to `on_state`, in order."""

    def __init__(self, url: str, api_key: str, *, on_event: EventHandler, on_state: StateHandler,
                 min_delay_s: float = 0.5, max_delay_s: float = 15.0) -> None:
        self._url, self._api_key = url, api_key
        self._on_event, self._on_state = on_event, on_state
        self._delays = partial(backoff, initial_delay=min_delay_s, min_delay=min_delay_s, max_delay=max_delay_s, factor=2)
        self.connected: bool | None = None  # unknown until the first try: its failure is reported too
        # A failed connect is seen in a synchronous hook, so state changes queue up for one reporting task.
        self._states: asyncio.Queue[bool] = asyncio.Queue()

    async def run(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self._report_states())
            await self._follow()

    async def _follow(self) -> None:
        # Pings find a connection that died silently (NAT, Wi-Fi) within ~12 s; the server answers them in ms.
        connections = connect(self._url, additional_headers={"X-API-Key": self._api_key}, open_timeout=5,
                              ping_interval=5, ping_timeout=5, close_timeout=2, proxy=None,
                              process_exception=self._retry_after_failure, reconnect_delays=self._delays)
        async for websocket in connections:
            self._set_state(True)
            try:
                await self._dispatch(websocket)
            except ConnectionClosed as exc:
                logger.info("event stream closed (%s)", exc)
            self._set_state(False)

    async def _dispatch(self, websocket: ClientConnection) -> None:
        async for raw in websocket:
            try:
                event = ServerEvent.model_validate_json(raw)
            except ValidationError:
                continue
            try:
                await self._on_event(event)
            except Exception:
                logger.exception("event handler failed on %s", event.type)

    def _retry_after_failure(self, exc: Exception) -> Exception | None:
        """None (retry) for every network or protocol failure, a refused key included: it can be fixed server-side.
        websockets logs each failure and its delay itself (the key is in a header, so never in that line)."""
        if isinstance(exc, InvalidStatus) and exc.response.status_code in (401, 403):
            logger.error("the server refused the bot's API key on WS /events")
        self._set_state(False)
        return None if isinstance(exc, TimeoutError | OSError | WebSocketException) else exc

    def _set_state(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected = connected
            self._states.put_nowait(connected)

    async def _report_states(self) -> None:
        while True:
            connected = await self._states.get()
            try:
                await self._on_state(connected)
            except Exception:
                logger.exception("state handler failed")
