"""Stream alerts for the chats that watch streams: trouble and recovery, and line crossings summed up.

Streams have no owner, so every watching chat hears every stream. Who watches follows the chat's Notifications
(BotStorage.stream_watchers): "all runs" hears them, "runs I started" once it opened the Streams list, "none" never;
Mute alerts silences a chat in any case. A busy line never floods a chat: crossings are
gathered per stream and sent as one summary at most every `crossing_interval_s`. A failing stream that the server
restarts again and again is announced once, and once more when it runs again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError

from telegram_bot.api_client import ApiClient, ApiError, ApiNotFound
from telegram_bot.schemas import ServerEvent
from telegram_bot.storage import BotStorage
from telegram_bot.stream_formatting import crossings_text, stream_alert_text

logger = logging.getLogger(__name__)

STREAM_EVENTS = "stream.status,stream.crossing"  # never stream.tracks: one per processed frame
Counts = dict[str, dict[str, dict[str, int]]]  # line -> class -> direction -> crossings


class CrossingDigest:
    """Crossings per stream since its last summary; a stream's summary is due `interval_s` after the one before."""

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._pending: dict[int, Counts] = {}
        self._last_sent: dict[int, float] = {}

    def add(self, stream_id: int, *, line: str, class_name: str, direction: str) -> None:
        classes = self._pending.setdefault(stream_id, {}).setdefault(line, {})
        directions = classes.setdefault(class_name, {})
        directions[direction] = directions.get(direction, 0) + 1

    def due(self, now: float) -> dict[int, Counts]:
        """The summaries to send now, each taken out; the first crossing after a quiet spell is due at once."""
        ready = [sid for sid in self._pending if now - self._last_sent.get(sid, -math.inf) >= self.interval_s]
        for stream_id in ready:
            self._last_sent[stream_id] = now
        return {stream_id: self._pending.pop(stream_id) for stream_id in ready}


class TroubleWatch:
    """Which status change is worth a message: the first failed or reconnecting, then running again."""

    def __init__(self) -> None:
        self._troubled: set[int] = set()

    def alert(self, stream_id: int, status: str) -> str | None:
        """failed / reconnecting / recovered, or None (starting, a restart while still failing, a stop)."""
        if status in ("failed", "reconnecting"):
            if stream_id in self._troubled:
                return None
            self._troubled.add(stream_id)
            return status
        if status == "running" and stream_id in self._troubled:
            self._troubled.discard(stream_id)
            return "recovered"
        if status == "stopped":
            self._troubled.discard(stream_id)
        return None


class StreamAlerts:
    """Fed by the notifier's event stream (`on_event` only records); `run()` sends what is due."""

    def __init__(self, bot: Bot, api: ApiClient, storage: BotStorage, *, crossing_interval_s: float = 10.0,
                 tick_s: float = 1.0) -> None:
        self._bot, self._api, self._storage = bot, api, storage
        self._digest = CrossingDigest(crossing_interval_s)
        self._trouble = TroubleWatch()
        self._alerts: list[tuple[int, str, str | None]] = []  # (stream, failed / reconnecting / recovered, reason)
        self._tick_s = tick_s

    def on_event(self, event: ServerEvent) -> None:
        data = event.data
        if data.stream_id is None:
            return
        if event.type == "stream.status":
            kind = self._trouble.alert(data.stream_id, data.status or "")
            if kind:
                self._alerts.append((data.stream_id, kind, data.reason))
        elif event.type == "stream.crossing" and data.line and data.class_name and data.direction:
            self._digest.add(data.stream_id, line=data.line, class_name=data.class_name, direction=data.direction)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._tick_s)
            try:
                await self.flush(time.monotonic())
            except Exception:
                logger.exception("stream alerts not sent")

    async def flush(self, now: float) -> None:
        alerts, self._alerts = self._alerts, []
        digests = self._digest.due(now)  # taken out even when nobody listens: nothing piles up
        if not alerts and not digests:
            return
        chats = await self._storage.stream_watchers()
        if not chats:
            return
        for stream_id, kind, reason in alerts:
            name = await self._name(stream_id)
            if name is not None:
                await self._send(chats, lambda lang, n=name, k=kind, r=reason: stream_alert_text(k, n, r, lang))
        for stream_id, counts in digests.items():
            name = await self._name(stream_id)
            if name is not None:
                await self._send(chats, lambda lang, n=name, c=counts: crossings_text(n, c, lang))

    async def _name(self, stream_id: int) -> str | None:
        """The stream's name; None once it is deleted; its id when the server cannot say."""
        try:
            return (await self._api.stream(stream_id)).name
        except ApiNotFound:
            return None
        except ApiError:
            return f"#{stream_id}"

    async def _send(self, chats: dict[int, str], text: Callable[[str], str]) -> None:
        for chat_id, lang in chats.items():
            with contextlib.suppress(TelegramBadRequest, TelegramForbiddenError):
                await self._bot.send_message(chat_id, text(lang))
