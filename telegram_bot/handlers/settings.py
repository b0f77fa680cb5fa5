"""/settings: the chat's recognition model, confidence threshold and expected count or kit, and which runs it hears
about (Notifications), persisted."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram_i18n import LazyFilter

from telegram_bot import keyboards
from telegram_bot.action_keyboards import NOTIFY_KEYS, notify_modes
from telegram_bot.api_client import ApiClient
from telegram_bot.callbacks import SettingsCb
from telegram_bot.formatting import check_text, parse_check
from telegram_bot.i18n import t
from telegram_bot.storage import BotStorage, ChatSettings


class SettingsInput(StatesGroup):
    check = State()


async def settings_text(settings: ChatSettings, api: ApiClient, lang: str) -> str:
    if settings.model_id is None:
        model = t(lang, "settings-model-auto")
    else:
        model = f"#{settings.model_id} {escape((await api.model(settings.model_id)).name)}"
    return t(lang, "settings-card", model=model, conf=settings.conf,
             check=check_text(settings.expected_count, settings.kit, lang))


async def notify_line(chat_id: int, chat_store: BotStorage, lang: str) -> str:
    mode = await chat_store.notify_mode(chat_id)
    return t(lang, "settings-notify-line", mode=t(lang, NOTIFY_KEYS[mode]))


async def show_settings(message: Message, api: ApiClient, lang: str, chat_store: BotStorage, state: FSMContext) -> None:
    await state.clear()
    settings = await chat_store.chat_settings(message.chat.id)
    text = await settings_text(settings, api, lang) + "\n" + await notify_line(message.chat.id, chat_store, lang)
    await message.answer(text, reply_markup=keyboards.settings_menu(lang))


async def pick_notify(callback: CallbackQuery, lang: str, chat_store: BotStorage) -> None:
    """Notifications: all runs / runs I started / none (stream alerts follow: "none" silences them too)."""
    if isinstance(callback.message, Message):
        mode = await chat_store.notify_mode(callback.message.chat.id)
        await callback.message.answer(t(lang, "settings-pick-notify"), reply_markup=notify_modes(mode, lang))


async def apply_notify(callback: CallbackQuery, callback_data: SettingsCb, lang: str, chat_store: BotStorage) -> None:
    if not isinstance(callback.message, Message) or callback_data.value not in NOTIFY_KEYS:
        return
    chat_id = callback.message.chat.id
    await chat_store.set_notify(chat_id=chat_id, mode=callback_data.value, lang=lang)
    await callback.message.edit_text(t(lang, "settings-saved") + "\n" + await notify_line(chat_id, chat_store, lang))


async def pick_model(callback: CallbackQuery, api: ApiClient, lang: str) -> None:
    models = (await api.models(limit=15, task="detect")).items
    if isinstance(callback.message, Message):
        await callback.message.answer(t(lang, "settings-pick-model"), reply_markup=keyboards.settings_models(models, lang))


async def pick_conf(callback: CallbackQuery, lang: str) -> None:
    if isinstance(callback.message, Message):
        await callback.message.answer(t(lang, "settings-pick-conf"), reply_markup=keyboards.settings_conf())


async def ask_check(callback: CallbackQuery, lang: str, state: FSMContext) -> None:
    await state.set_state(SettingsInput.check)
    if isinstance(callback.message, Message):
        await callback.message.answer(t(lang, "settings-enter-check"))


async def apply_choice(callback: CallbackQuery, callback_data: SettingsCb, api: ApiClient, lang: str,
                       chat_store: BotStorage) -> None:
    if not isinstance(callback.message, Message):
        return
    settings = await chat_store.chat_settings(callback.message.chat.id)
    if callback_data.action == "setm":
        settings.model_id = None if callback_data.value == "auto" else (await api.model(int(callback_data.value))).id
    elif callback_data.action == "setc":
        settings.conf = min(max(float(callback_data.value), 0.0), 1.0)
    else:
        settings.expected_count, settings.kit = None, None
    await chat_store.save_chat_settings(settings)
    await callback.message.answer(t(lang, "settings-saved") + "\n\n" + await settings_text(settings, api, lang))


async def type_check(message: Message, api: ApiClient, lang: str, chat_store: BotStorage, state: FSMContext) -> None:
    check = parse_check(message.text or "")
    if check is None:
        await message.answer(t(lang, "settings-bad-check"))
        return
    settings = await chat_store.chat_settings(message.chat.id)
    settings.expected_count, settings.kit = (check, None) if isinstance(check, int) else (None, check)
    await chat_store.save_chat_settings(settings)
    await state.clear()
    await message.answer(t(lang, "settings-saved") + "\n\n" + await settings_text(settings, api, lang))


def create_router() -> Router:
    """A fresh router (a router attaches to one Dispatcher only; tests and restarts build several)."""
    router = Router(name=__name__)
    router.message.register(show_settings, LazyFilter("menu-settings"))
    router.message.register(show_settings, Command("settings"))
    router.callback_query.register(pick_model, SettingsCb.filter(F.action == "model"))
    router.callback_query.register(pick_conf, SettingsCb.filter(F.action == "conf"))
    router.callback_query.register(ask_check, SettingsCb.filter(F.action == "check"))
    router.callback_query.register(apply_choice, SettingsCb.filter(F.action.in_({"setm", "setc", "clear"})))
    router.callback_query.register(pick_notify, SettingsCb.filter(F.action == "notify"))
    router.callback_query.register(apply_notify, SettingsCb.filter(F.action == "setn"))
    router.message.register(type_check, SettingsInput.check, F.text)
    return router
