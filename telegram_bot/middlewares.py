"""Update middlewares (after aiogram_i18n's, which picks the locale): access for ALLOWED_USERS only (fail closed),
then the handlers' `lang` and API view."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update, User
from aiogram_i18n import I18nContext

from telegram_bot.api_client import ApiClient
from telegram_bot.i18n import t

logger = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class AccessMiddleware(BaseMiddleware):
    """Only listed users get through; a stranger gets one polite refusal (never a menu) and is logged."""

    def __init__(self, allowed_users: Iterable[int]) -> None:
        self._allowed = frozenset(allowed_users)
        self._refused: set[int] = set()

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        if user is not None and user.id in self._allowed:
            return await handler(event, data)
        user_id = user.id if user else None
        logger.warning("refused update from user %s (@%s): not in ALLOWED_USERS", user_id, user.username if user else None)
        if user is not None and isinstance(event, Update):
            await self._refuse_once(event, user, data["i18n"])
        return None

    async def _refuse_once(self, update: Update, user: User, i18n: I18nContext) -> None:
        text = t(i18n.locale, "denied", user_id=user.id)
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None and user.id not in self._refused:
            self._refused.add(user.id)
            await update.message.answer(text)


class ContextMiddleware(BaseMiddleware):
    """Gives handlers `lang` (the locale aiogram_i18n chose) and `api` (calls attributed to the user); remembers the
    chat's language."""

    def __init__(self, api: ApiClient) -> None:
        self._api = api

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        data["lang"] = data["i18n"].locale
        data["api"] = self._api.for_user(user.id) if user else self._api
        chat, store = data.get("event_chat"), data.get("chat_store")
        if chat is not None and store is not None:  # announcements the bot sends on its own speak the chat's language
            await store.remember_lang(chat.id, data["lang"])
        return await handler(event, data)
