"""Chat-side state in the bot's own SQLite file: chat settings, which chat follows which session (each run's
progress message is claimed once per chat), notifications per chat, stream alerts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

SCHEMA = """
CREATE TABLE IF NOT EXISTS chat_settings (
    chat_id INTEGER PRIMARY KEY,
    model_id INTEGER,
    conf REAL NOT NULL DEFAULT 0.5,
    expected_count INTEGER,
    kit TEXT
);
CREATE TABLE IF NOT EXISTS subscriptions (
    chat_id INTEGER NOT NULL,
    session_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    lang TEXT NOT NULL DEFAULT 'ru',
    finished INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (chat_id, session_id)
);
CREATE TABLE IF NOT EXISTS stream_watchers (
    chat_id INTEGER PRIMARY KEY,
    lang TEXT NOT NULL DEFAULT 'ru',
    alerts INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS chat_notify (
    chat_id INTEGER PRIMARY KEY,
    mode TEXT,
    lang TEXT NOT NULL DEFAULT 'ru'
);
CREATE TABLE IF NOT EXISTS bot_state (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""
NOTIFY_MODES = ("all", "mine", "none")
DEFAULT_NOTIFY = "mine"
DEFAULT_CONF = 0.5


@dataclass
class ChatSettings:
    chat_id: int
    model_id: int | None = None
    conf: float = DEFAULT_CONF
    expected_count: int | None = None
    kit: dict[str, int] | None = None


@dataclass(frozen=True)
class Subscription:
    chat_id: int
    session_id: int
    message_id: int
    lang: str


class BotStorage:
    """One aiosqlite connection; every write commits (the bot writes rarely)."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db
        self._langs: dict[int, str] = {}  # what chat_notify holds, so a message costs no write

    @classmethod
    async def open(cls, path: Path) -> BotStorage:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(path)
        try:
            await db.execute("PRAGMA journal_mode=WAL")
            await db.executescript(SCHEMA)
            await db.commit()
        except Exception:
            await db.close()
            raise
        return cls(db)

    async def close(self) -> None:
        await self._db.close()

    async def chat_settings(self, chat_id: int) -> ChatSettings:
        query = "SELECT model_id, conf, expected_count, kit FROM chat_settings WHERE chat_id = ?"
        async with self._db.execute(query, (chat_id,)) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return ChatSettings(chat_id)
        return ChatSettings(chat_id, row[0], row[1], row[2], json.loads(row[3]) if row[3] else None)

    async def save_chat_settings(self, settings: ChatSettings) -> None:
        await self._db.execute(
            "INSERT INTO chat_settings (chat_id, model_id, conf, expected_count, kit) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(chat_id) DO UPDATE SET model_id = excluded.model_id, conf = excluded.conf, "
            "expected_count = excluded.expected_count, kit = excluded.kit",
            (settings.chat_id, settings.model_id, settings.conf, settings.expected_count,
             json.dumps(settings.kit) if settings.kit else None),
        )
        await self._db.commit()

    async def subscribe(self, *, chat_id: int, session_id: int, message_id: int, lang: str) -> None:
        await self._db.execute(
            "INSERT INTO subscriptions (chat_id, session_id, message_id, lang) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(chat_id, session_id) DO UPDATE SET message_id = excluded.message_id, "
            "lang = excluded.lang, finished = 0",
            (chat_id, session_id, message_id, lang),
        )
        await self._db.commit()

    async def mark_finished(self, *, chat_id: int, session_id: int) -> bool:
        """True only for the caller that flipped it, so a run's end is announced once."""
        cursor = await self._db.execute(
            "UPDATE subscriptions SET finished = 1 WHERE chat_id = ? AND session_id = ? AND finished = 0",
            (chat_id, session_id),
        )
        await self._db.commit()
        return cursor.rowcount == 1

    async def claim(self, *, chat_id: int, session_id: int, lang: str, resumed: bool = False) -> bool:
        """True for the one caller that may post the run's progress message in the chat: never announced there
        before, or (`resumed`: queued again) announced and ended before. `message_id` is set once it is sent."""
        cursor = await self._db.execute(
            "INSERT INTO subscriptions (chat_id, session_id, message_id, lang) VALUES (?, ?, 0, ?) "
            "ON CONFLICT(chat_id, session_id) DO UPDATE SET message_id = 0, lang = excluded.lang, finished = 0 "
            "WHERE finished = 1 AND ?",
            (chat_id, session_id, lang, int(resumed)),
        )
        await self._db.commit()
        return cursor.rowcount == 1

    async def active_subscriptions(self) -> list[Subscription]:
        query = "SELECT chat_id, session_id, message_id, lang FROM subscriptions WHERE finished = 0"
        async with self._db.execute(query) as cursor:
            return [Subscription(*row) for row in await cursor.fetchall()]

    async def watch_streams(self, *, chat_id: int, lang: str) -> bool:
        """A chat that opens the stream list hears stream alerts (unless it turned them off); True if it does."""
        await self._db.execute(
            "INSERT INTO stream_watchers (chat_id, lang) VALUES (?, ?) ON CONFLICT(chat_id) DO UPDATE SET lang = excluded.lang",
            (chat_id, lang),
        )
        await self._db.commit()
        async with self._db.execute("SELECT alerts FROM stream_watchers WHERE chat_id = ?", (chat_id,)) as cursor:
            row = await cursor.fetchone()
        return bool(row and row[0])

    async def set_stream_alerts(self, *, chat_id: int, lang: str, on: bool) -> None:
        await self._db.execute(
            "INSERT INTO stream_watchers (chat_id, lang, alerts) VALUES (?, ?, ?) "
            "ON CONFLICT(chat_id) DO UPDATE SET lang = excluded.lang, alerts = excluded.alerts",
            (chat_id, lang, int(on)),
        )
        await self._db.commit()

    async def stream_watchers(self) -> dict[int, str]:
        """chat -> language of every chat that hears stream alerts: it opened the Streams list, or its notifications
        are "all runs"; not when it muted them (Mute alerts) or its notifications are "none"."""
        query = ("SELECT w.chat_id, w.lang FROM stream_watchers w LEFT JOIN chat_notify n ON n.chat_id = w.chat_id "
                 "WHERE w.alerts = 1 AND COALESCE(n.mode, '') != 'none' "
                 "UNION SELECT n.chat_id, n.lang FROM chat_notify n LEFT JOIN stream_watchers w ON w.chat_id = n.chat_id "
                 "WHERE n.mode = 'all' AND COALESCE(w.alerts, 1) = 1")
        async with self._db.execute(query) as cursor:
            return {int(chat_id): str(lang) for chat_id, lang in await cursor.fetchall()}

    async def remember_lang(self, chat_id: int, lang: str) -> None:
        """The chat's language, for messages the bot sends on its own (announcements)."""
        if self._langs.get(chat_id) == lang:
            return
        await self._db.execute("INSERT INTO chat_notify (chat_id, lang) VALUES (?, ?) "
                               "ON CONFLICT(chat_id) DO UPDATE SET lang = excluded.lang", (chat_id, lang))
        await self._db.commit()
        self._langs[chat_id] = lang

    async def set_notify(self, *, chat_id: int, mode: str, lang: str) -> None:
        await self._db.execute("INSERT INTO chat_notify (chat_id, mode, lang) VALUES (?, ?, ?) ON CONFLICT(chat_id) "
                               "DO UPDATE SET mode = excluded.mode, lang = excluded.lang", (chat_id, mode, lang))
        await self._db.commit()
        self._langs[chat_id] = lang

    async def notify_mode(self, chat_id: int) -> str:
        async with self._db.execute("SELECT mode FROM chat_notify WHERE chat_id = ?", (chat_id,)) as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row and row[0] else DEFAULT_NOTIFY

    async def notify_prefs(self) -> dict[int, tuple[str | None, str]]:
        """chat -> (mode, or None for the default; language) of every chat the bot knows."""
        async with self._db.execute("SELECT chat_id, mode, lang FROM chat_notify") as cursor:
            return {int(chat): (mode, str(lang)) for chat, mode, lang in await cursor.fetchall()}

    async def state(self, key: str) -> int | None:
        async with self._db.execute("SELECT value FROM bot_state WHERE key = ?", (key,)) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else None

    async def set_state(self, key: str, value: int) -> None:
        await self._db.execute("INSERT INTO bot_state (key, value) VALUES (?, ?) "
                               "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))
        await self._db.commit()
