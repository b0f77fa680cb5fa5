"""The answer's one message, edited as the model's words arrive: at most one edit per interval (Telegram limits
edits), a line while a tool runs, and the final text always."""

from __future__ import annotations

import logging
import time
from html import escape

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from aiogram.types import InlineKeyboardMarkup

from telegram_bot.i18n import t
from telegram_bot.telegram_retry import telegram_call

logger = logging.getLogger(__name__)

MESSAGE_LIMIT = 4096
CURSOR = " ▌"


def fit(text: str, limit: int = 3800) -> str:
    """`text` HTML-escaped (the model's words are never markup), cut to `limit` characters with an ellipsis."""
    escaped = escape(text, quote=False)
    while len(escaped) > limit:
        text = text[: len(text) * limit // len(escaped) - 1]
        escaped = escape(text, quote=False) + "…"
    return escaped


class AnswerMessage:
    """Implements the assistant's Progress for one message that already exists (the "thinking" placeholder)."""

    def __init__(self, bot: Bot, chat_id: int, message_id: int, *, lang: str, interval_s: float) -> None:
        self._bot, self._chat_id, self._message_id = bot, chat_id, message_id
        self._lang, self._interval_s = lang, interval_s
        self._text, self._status, self._shown = "", "", ""
        self._next_edit = time.monotonic() + interval_s

    async def text(self, piece: str) -> None:
        self._text += piece
        self._status = ""
        await self._edit_if_due()

    async def tool(self, name: str) -> None:
        self._status = t(self._lang, "ai-using-tool", tool=escape(name))
        await self._edit_if_due()

    async def finish(self, html: str, markup: InlineKeyboardMarkup | None) -> None:
        """The final text (already HTML) and buttons; if the edit fails, a new message carries them."""
        try:
            await telegram_call(lambda: self._bot.edit_message_text(
                html[:MESSAGE_LIMIT], chat_id=self._chat_id, message_id=self._message_id, reply_markup=markup))
        except (TelegramBadRequest, TelegramRetryAfter) as exc:
            logger.info("answer in chat %s not edited (%s): sending it anew", self._chat_id, exc)
            await self._bot.send_message(self._chat_id, html[:MESSAGE_LIMIT], reply_markup=markup)

    async def _edit_if_due(self) -> None:
        now = time.monotonic()
        if now < self._next_edit:
            return
        self._next_edit = now + self._interval_s
        shown = "\n\n".join(part for part in (fit(self._text) + CURSOR if self._text else "", self._status) if part)
        if shown == self._shown:
            return
        self._shown = shown
        try:  # attempts=1: the bot's middleware has waited already; a limited edit is skipped, the next one comes
            await telegram_call(lambda: self._bot.edit_message_text(shown, chat_id=self._chat_id,
                                                                    message_id=self._message_id), attempts=1)
        except TelegramRetryAfter as exc:
            self._next_edit = time.monotonic() + exc.retry_after
        except (TelegramBadRequest, TelegramForbiddenError) as exc:
            logger.info("answer in chat %s not edited: %s", self._chat_id, exc)
