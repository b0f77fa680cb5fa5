"""One progress message per followed run, edited as the server reports (throttled), and the end announced once.

The server's state (GET /sessions/{id}) is the truth; events only say when to look. So an event lost while the
stream was down costs nothing: on reconnect, and every poll while it is down, every followed run is refreshed.
Stream events on the same connection go to StreamAlerts; which chats hear of a run on their own (a `session.status`
event, or the catch-up on each connection) is RunAnnouncer's business.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import BufferedInputFile

from telegram_bot.api_client import ApiClient, ApiError, ApiNotFound
from telegram_bot.event_stream import EventStream, events_url
from telegram_bot.formatting import ended_text, failure_text, final_caption, session_card
from telegram_bot.i18n import t
from telegram_bot.keyboards import session_controls
from telegram_bot.run_announcer import RunAnnouncer
from telegram_bot.schemas import ServerEvent, SessionRead
from telegram_bot.storage import BotStorage, Subscription
from telegram_bot.stream_alerts import STREAM_EVENTS, StreamAlerts
from telegram_bot.telegram_retry import telegram_call

logger = logging.getLogger(__name__)

FINISHED = frozenset({"completed", "failed", "cancelled", "stopped"})
REFRESH_EVENTS = frozenset({"session.status", "session.started", "session.epoch"})
PROGRESS_REFRESH_S = 15.0  # mid-epoch bar updates, for long (GPU) epochs


class ProgressNotifier:
    def __init__(self, bot: Bot, api: ApiClient, storage: BotStorage, *, edit_interval_s: float = 1.0,
                 poll_interval_s: float = 3.0, crossing_interval_s: float = 10.0,
                 allowed_users: Iterable[int] = ()) -> None:
        self._bot, self._api, self._storage = bot, api, storage
        self._edit_interval_s, self._poll_interval_s = edit_interval_s, poll_interval_s
        self._subs: dict[int, dict[int, Subscription]] = {}
        self._dirty: set[int] = set()
        self._wake = asyncio.Event()
        self._next_edit: dict[int, float] = {}
        self._last_text: dict[tuple[int, int], str] = {}
        self._last_refresh: dict[int, float] = {}
        self._told_down: dict[int, str] = {}  # chat -> lang: told the server is unreachable
        self.streams = StreamAlerts(bot, api, storage, crossing_interval_s=crossing_interval_s)
        self._stream = EventStream(events_url(api.base_url, f"session,{STREAM_EVENTS}"), api.api_key,
                                   on_event=self.on_event, on_state=self.on_stream_state)
        self.runs = RunAnnouncer(api, storage, allowed_users, self.follow)
        self._tasks: list[asyncio.Task[None]] = []
        self._announcing: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        for sub in await self._storage.active_subscriptions():
            self._subs.setdefault(sub.session_id, {})[sub.chat_id] = sub
        self._mark_dirty(*self._subs)  # catch up on what happened while the bot was down
        loops = (self._stream.run(), self._flush_loop(), self._poll_loop(), self.streams.run())
        self._tasks = [asyncio.create_task(coro) for coro in loops]

    async def stop(self) -> None:
        for task in [*self._tasks, *self._announcing]:
            task.cancel()
        for task in [*self._tasks, *self._announcing]:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def follow(self, chat_id: int, session: SessionRead, lang: str) -> bool:
        """Post the run's progress message in the chat, once, and keep it up to date; False when the chat's
        notifications are "none"."""
        if await self._storage.notify_mode(chat_id) == "none":
            return False
        # An ended run gets a new message only when it is queued again (resumed), never for a late event.
        resumed = session.status == "queued"
        if not await self._storage.claim(chat_id=chat_id, session_id=session.id, lang=lang, resumed=resumed):
            return True  # posted already (announced, or followed before a restart)
        message = await self._bot.send_message(chat_id, session_card(session, lang),
                                               reply_markup=session_controls(session, lang))
        await self._storage.subscribe(chat_id=chat_id, session_id=session.id, message_id=message.message_id, lang=lang)
        self._subs.setdefault(session.id, {})[chat_id] = Subscription(chat_id, session.id, message.message_id, lang)
        self._last_text[(chat_id, session.id)] = message.text or ""
        self._mark_dirty(session.id)
        if self._stream.connected is False:  # the connection dropped just as this run was followed: say so, not silence
            await self._tell_followers_down()
        return True

    async def on_event(self, event: ServerEvent) -> None:
        if event.type.startswith("stream."):
            self.streams.on_event(event)
            return
        if event.type == "session.status":
            self._announce(SessionRead.model_validate(event.data.model_dump()))
        session_id = event.session_id
        if session_id is None or session_id not in self._subs:
            return
        stale = time.monotonic() - self._last_refresh.get(session_id, 0.0) > PROGRESS_REFRESH_S
        if event.type in REFRESH_EVENTS or (event.type == "session.progress" and stale):
            self._mark_dirty(session_id)

    def _announce(self, session: SessionRead) -> None:
        """In a task of its own: a slow chat must not hold up the events behind it."""
        task = asyncio.create_task(self.runs.on_session(session))
        self._announcing.add(task)
        task.add_done_callback(self._announcing.discard)

    async def on_stream_state(self, connected: bool) -> None:
        if connected:
            self._mark_dirty(*self._subs)
            await self.runs.catch_up()
            told, self._told_down = self._told_down, {}
            await self._broadcast("stream-up", told)
        else:
            await self._tell_followers_down()

    async def _tell_followers_down(self) -> None:
        """Each chat following a run hears once per outage that the server is unreachable, a chat that starts
        following during the outage too; the same chats hear when it is back."""
        chats = {sub.chat_id: sub.lang for subs in self._subs.values() for sub in subs.values()
                 if sub.chat_id not in self._told_down}
        self._told_down.update(chats)
        await self._broadcast("stream-down", chats)

    def _mark_dirty(self, *session_ids: int) -> None:
        self._dirty.update(session_ids)
        self._wake.set()

    async def _broadcast(self, key: str, chats: dict[int, str]) -> None:
        for chat_id, lang in chats.items():
            with contextlib.suppress(TelegramBadRequest, TelegramForbiddenError):
                await self._bot.send_message(chat_id, t(lang, key))

    async def _poll_loop(self) -> None:
        """While the stream is down, look at every followed run now and then; while it is up, rarely."""
        ticks = 0
        while True:
            await asyncio.sleep(self._poll_interval_s)
            ticks += 1
            if not self._stream.connected or ticks % 10 == 0:
                self._mark_dirty(*self._subs)

    async def _flush_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=0.5)
            self._wake.clear()
            for session_id in list(self._dirty):
                try:
                    await self._refresh(session_id)
                except Exception:
                    logger.exception("refreshing session %s failed", session_id)

    async def _refresh(self, session_id: int) -> None:
        subs = self._subs.get(session_id)
        if not subs:
            self._dirty.discard(session_id)
            return
        try:
            session = await self._api.session(session_id)
        except ApiNotFound:
            session = None
        except ApiError as exc:
            logger.info("session %s not refreshed: %s", session_id, exc)
            return  # stays dirty; the poll loop retries
        self._dirty.discard(session_id)
        self._last_refresh[session_id] = time.monotonic()
        for sub in list(subs.values()):
            if session is None:
                self._forget(sub)
            elif not await self._update(sub, session):
                self._dirty.add(session_id)  # throttled in that chat: try again shortly

    async def _update(self, sub: Subscription, session: SessionRead) -> bool:
        finished = session.status in FINISHED
        now = time.monotonic()
        if not finished and now < self._next_edit.get(sub.chat_id, 0.0):
            return False
        text = session_card(session, sub.lang)
        if text != self._last_text.get((sub.chat_id, sub.session_id)) or finished:
            self._next_edit[sub.chat_id] = now + self._edit_interval_s
            self._last_text[(sub.chat_id, sub.session_id)] = text
            await self._edit(sub, text, session)
        if finished and await self._storage.mark_finished(chat_id=sub.chat_id, session_id=sub.session_id):
            self._forget(sub)
            await self._announce_end(sub, session)
        return True

    async def _edit(self, sub: Subscription, text: str, session: SessionRead) -> None:
        if not sub.message_id:  # claimed, but the bot stopped before the message went out: only its end is told
            return
        try:
            await telegram_call(lambda: self._bot.edit_message_text(  # attempts=1: the bot's middleware waited already
                text=text, chat_id=sub.chat_id, message_id=sub.message_id,
                reply_markup=session_controls(session, sub.lang)), attempts=1)
        except TelegramRetryAfter as exc:  # still limited: this chat's edits pause, the other chats go on
            self._next_edit[sub.chat_id] = time.monotonic() + exc.retry_after
            self._last_text.pop((sub.chat_id, sub.session_id), None)
        except (TelegramBadRequest, TelegramForbiddenError) as exc:
            logger.info("progress message of session %s in chat %s not edited: %s", sub.session_id, sub.chat_id, exc)

    def _forget(self, sub: Subscription) -> None:
        subs = self._subs.get(sub.session_id, {})
        subs.pop(sub.chat_id, None)
        if not subs:
            self._subs.pop(sub.session_id, None)
        self._last_text.pop((sub.chat_id, sub.session_id), None)

    async def _announce_end(self, sub: Subscription, session: SessionRead) -> None:
        chat, lang = sub.chat_id, sub.lang
        if session.status == "completed":
            try:
                chart = await self._api.chart(session.id)
            except ApiError:
                await self._bot.send_message(chat, final_caption(session, lang))
                return
            photo = BufferedInputFile(chart, filename=f"session-{session.id}.png")
            await self._bot.send_photo(chat, photo, caption=final_caption(session, lang))
        elif session.status == "failed":
            await self._bot.send_message(chat, failure_text(session, lang))
        else:
            await self._bot.send_message(chat, ended_text(session, lang), reply_markup=session_controls(session, lang))
