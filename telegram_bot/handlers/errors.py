"""The global error handler: no update is lost to an exception, and the user is told what happened."""

from __future__ import annotations

import logging
from html import escape

from aiogram import Bot, Router
from aiogram.types import ErrorEvent

from telegram_bot.api_client import ApiError, ApiUnavailable
from telegram_bot.i18n import lang_of, t

logger = logging.getLogger(__name__)


def _reply_text(exception: Exception, lang: str) -> str:
    if isinstance(exception, ApiUnavailable):
        return t(lang, "unavailable")
    if isinstance(exception, ApiError):
        return t(lang, "api-error", message=escape(exception.readable()))
    return t(lang, "unexpected")


async def on_error(event: ErrorEvent, bot: Bot) -> bool:
    """Logs it and answers the chat it came from; True tells aiogram it was handled."""
    exception, update = event.exception, event.update
    if isinstance(exception, ApiError):
        logger.info("update %s: API error %s", update.update_id, exception)
    else:
        logger.exception("update %s failed", update.update_id, exc_info=exception)
    message = update.message or (update.callback_query.message if update.callback_query else None)
    user = update.message.from_user if update.message else (update.callback_query.from_user if update.callback_query else None)
    lang = lang_of(user.language_code if user else None)
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except Exception:  # already answered by CallbackAnswerMiddleware
            pass
    if message is not None:
        try:
            await bot.send_message(message.chat.id, _reply_text(exception, lang))
        except Exception:
            logger.exception("could not tell chat %s about the error", message.chat.id)
    return True


def create_router() -> Router:
    """A fresh router (a router attaches to one Dispatcher only; tests and restarts build several)."""
    router = Router(name=__name__)
    router.errors.register(on_error)
    return router
