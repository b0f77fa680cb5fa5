"""The bot's words: Fluent catalogs (locales/<lang>/bot.ftl) through aiogram_i18n; Russian is the default."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from aiogram import Dispatcher
from aiogram.types import User
from aiogram_i18n import I18nMiddleware
from aiogram_i18n.cores import FluentRuntimeCore
from aiogram_i18n.managers.const import ConstManager

LOCALES_DIR = Path(__file__).parent / "locales"
DEFAULT_LOCALE = "ru"
LOCALES = ("ru", "en")


@cache
def catalogs() -> FluentRuntimeCore:
    """Loaded on first use and kept: the notifier renders texts outside any update, and they never change."""
    core = FluentRuntimeCore(path=LOCALES_DIR, default_locale=DEFAULT_LOCALE)
    core.locales.update(core.find_locales())
    return core


def t(lang: str, key: str, /, **values: object) -> str:
    """The text `key` in `lang` (an unknown language gets Russian)."""
    # Fluent would group digits by locale (10 000, 10,000); numbers are shown as Python prints them.
    return catalogs().get(key, lang, **{name: str(value) for name, value in values.items()})


def lang_of(language_code: str | None) -> str:
    """English for English-speaking users, Russian for everyone else (the default)."""
    return "en" if language_code and language_code.lower().startswith("en") else DEFAULT_LOCALE


class TelegramLanguage(ConstManager):
    """The locale of an update is the user's Telegram language; the bot has no language setting of its own."""

    async def get_locale(self, event_from_user: User | None = None) -> str:
        return lang_of(event_from_user.language_code if event_from_user else None)


def setup_i18n(dispatcher: Dispatcher) -> None:
    """Each update gets `i18n` in its user's locale; LazyFilter buttons learn their texts at startup."""
    middleware = I18nMiddleware(catalogs(), manager=TelegramLanguage(), default_locale=DEFAULT_LOCALE)
    dispatcher.update.outer_middleware(middleware)
    # Not middleware.setup(): its shutdown hook would unload the catalogs the notifier still renders with.
    dispatcher.startup.register(middleware.startup)
