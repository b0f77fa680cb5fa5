"""Which chats hear about which runs on their own (Notifications: all runs / runs I started / none), and catching up.

A chat set to "all" hears every training run, whoever started it (curl, a script, another chat); a chat on "mine"
(the default) hears the runs started on behalf of its user (`X-On-Behalf-Of: tg:<id>`; in a private chat the chat
id is the user id) and the runs started from it; "none" hears nothing, stream alerts included. Each chat gets one
progress message per run, claimed in the bot's SQLite before it is sent, so neither a restart nor an event seen
twice (stream and catch-up) posts it again. On every (re)connection the server is read, not replayed: the runs
queued or running now, and those created since the newest one the bot had seen, are announced where they were not.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping

from telegram_bot.api_client import ApiClient, ApiError
from telegram_bot.i18n import DEFAULT_LOCALE
from telegram_bot.schemas import SessionRead
from telegram_bot.storage import DEFAULT_NOTIFY, BotStorage

logger = logging.getLogger(__name__)

OWNER = re.compile(r"tg:(\d+)")
LAST_SEEN = "last_session_id"
Prefs = Mapping[int, tuple[str | None, str]]  # chat -> (mode or None for the default, language)
Follow = Callable[[int, SessionRead, str], Awaitable[bool]]


def owner_of(session: SessionRead) -> int | None:
    """The Telegram user a run was started for, from its `on_behalf_of` ("tg:<id>")."""
    match = OWNER.fullmatch(session.on_behalf_of or "")
    return int(match.group(1)) if match else None


def audience(session: SessionRead, prefs: Prefs, allowed_users: Iterable[int]) -> dict[int, str]:
    """chat -> language of every chat told about this run without asking (evaluations are not
    training runs; external ones are)."""
    if session.kind not in ("train", "external"):  # an external run is a training run reported from elsewhere
        return {}
    chats = {chat: lang for chat, (mode, lang) in prefs.items() if mode == "all"}
    owner = owner_of(session)
    if owner is not None and owner in set(allowed_users):
        mode, lang = prefs.get(owner, (None, DEFAULT_LOCALE))
        if (mode or DEFAULT_NOTIFY) != "none":
            chats[owner] = lang
    return chats


def to_catch_up(active: Iterable[SessionRead], recent: Iterable[SessionRead], last_seen: int | None) -> list[SessionRead]:
    """The runs to announce after a (re)connection: queued or running now, and, when the bot has seen runs before,
    every one created since (it may have started and ended meanwhile); oldest first."""
    found = {session.id: session for session in active}
    if last_seen is not None:
        found.update({session.id: session for session in recent if session.id > last_seen})
    return [found[key] for key in sorted(found)]


class RunAnnouncer:
    def __init__(self, api: ApiClient, storage: BotStorage, allowed_users: Iterable[int], follow: Follow) -> None:
        self._api, self._storage, self._follow = api, storage, follow
        self._allowed = frozenset(allowed_users)
        self._last_seen: int | None = None

    async def on_session(self, session: SessionRead) -> None:
        """A session changed state (`session.status`): post its progress message where it is due and not there yet."""
        try:
            await self._announce(session, await self._storage.notify_prefs())
            await self._saw(session.id)
        except Exception:
            logger.exception("run %s not announced", session.id)

    async def catch_up(self) -> None:
        """Called on each (re)connection of the event stream."""
        try:
            active = (await self._api.sessions(limit=100, statuses=("queued", "running"))).items
            recent = (await self._api.sessions(limit=50)).items
        except ApiError as exc:
            logger.info("runs not caught up: %s", exc)
            return
        last_seen = await self._storage.state(LAST_SEEN)
        prefs = await self._storage.notify_prefs()
        for session in to_catch_up(active, recent, last_seen):
            await self._announce(session, prefs)
        await self._saw(max((s.id for s in [*active, *recent]), default=0))

    async def _announce(self, session: SessionRead, prefs: Prefs) -> None:
        for chat_id, lang in audience(session, prefs, self._allowed).items():
            try:
                await self._follow(chat_id, session, lang)
            except Exception:
                logger.exception("run %s not announced in chat %s", session.id, chat_id)

    async def _saw(self, session_id: int) -> None:
        """Remember the newest run seen (0 when the server has none yet: every later one is new)."""
        if self._last_seen is None:
            stored = await self._storage.state(LAST_SEEN)
            self._last_seen = -1 if stored is None else stored
        if session_id > self._last_seen:
            self._last_seen = session_id
            await self._storage.set_state(LAST_SEEN, session_id)
