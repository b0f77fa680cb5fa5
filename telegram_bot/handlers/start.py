"""/start, /help and the main menu."""

from __future__ import annotations

from html import escape

from aiogram import Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import BotCommand, Message
from aiogram_i18n import LazyFilter

from telegram_bot.action_keyboards import recognize_actions
from telegram_bot.i18n import DEFAULT_LOCALE, LOCALES, t
from telegram_bot.keyboards import main_menu

COMMANDS = ("start", "help", "status", "train", "stop", "logs", "runs", "queue", "history", "ask", "settings")


def bot_commands(lang: str) -> list[BotCommand]:
    return [BotCommand(command=name, description=t(lang, f"cmd-{name}")) for name in COMMANDS]


def command_languages() -> list[tuple[str | None, str]]:
    """(language_code for setMyCommands, our language): Russian is the default for everyone else."""
    return [(None, DEFAULT_LOCALE), *((lang, lang) for lang in LOCALES)]


async def start(message: Message, lang: str, state: FSMContext) -> None:
    """The greeting and the main menu."""
    await state.clear()
    name = escape(message.from_user.first_name) if message.from_user else ""
    await message.answer(t(lang, "start", name=name), reply_markup=main_menu(lang))


async def help_(message: Message, lang: str) -> None:
    await message.answer(t(lang, "help"), reply_markup=main_menu(lang))


async def recognize_hint(message: Message, lang: str) -> None:
    await message.answer(t(lang, "recognize-hint"), reply_markup=recognize_actions(lang))


def create_router() -> Router:
    """A fresh router (a router attaches to one Dispatcher only; tests and restarts build several)."""
    router = Router(name=__name__)
    router.message.register(start, CommandStart())
    router.message.register(help_, Command("help"))
    router.message.register(recognize_hint, LazyFilter("menu-recognize"))
    return router
