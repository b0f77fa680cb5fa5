"""Status (runs and server load), stop, resume and logs."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from aiogram_i18n import LazyFilter

from telegram_bot import keyboards
from telegram_bot.action_keyboards import status_actions
from telegram_bot.api_client import ApiClient
from telegram_bot.callbacks import LogsCb, SessionCb
from telegram_bot.config import BotSettings
from telegram_bot.formatting import cluster_card, logs_page, session_line, system_card
from telegram_bot.i18n import t
from telegram_bot.notifier import ProgressNotifier


async def show_status(message: Message, api: ApiClient, lang: str) -> None:
    """Running and queued runs with Stop buttons, then CPU / RAM / disk / GPU; Past runs and Queue buttons."""
    queue = await api.queue()
    lines = [t(lang, "status-title")]
    for key, sessions in (("status-running", queue.running), ("status-queued", queue.queued)):
        if sessions:
            lines.append(t(lang, key))
            lines.extend(session_line(session, lang) for session in sessions)
    if len(lines) == 1:
        lines.append(t(lang, "status-none"))
    lines.append("")
    lines.append(system_card(await api.system(), lang))
    if cluster := cluster_card(await api.cluster(), lang):
        lines.extend(["", cluster])
    await message.answer("\n".join(lines), reply_markup=status_actions([*queue.running, *queue.queued], lang))


async def pick_run_to_stop(message: Message, api: ApiClient, lang: str) -> None:
    queue = await api.queue()
    markup = keyboards.stop_buttons([*queue.running, *queue.queued], lang)
    await message.answer(t(lang, "stop-pick" if markup else "stop-none"), reply_markup=markup)


async def stop_session(callback: CallbackQuery, callback_data: SessionCb, api: ApiClient, lang: str) -> None:
    await api.stop_session(callback_data.id)
    await callback.answer(t(lang, "stop-done", id=callback_data.id))


async def resume_session(callback: CallbackQuery, callback_data: SessionCb, api: ApiClient, lang: str,
                         notifier: ProgressNotifier) -> None:
    session = await api.resume_session(callback_data.id)
    await callback.answer(t(lang, "resume-done", id=callback_data.id))
    if isinstance(callback.message, Message):
        await notifier.follow(callback.message.chat.id, session, lang)


async def pick_run_for_logs(message: Message, api: ApiClient, lang: str) -> None:
    sessions = (await api.sessions(limit=8)).items
    if not sessions:
        await message.answer(t(lang, "logs-none"))
        return
    await message.answer(t(lang, "logs-pick"), reply_markup=keyboards.log_sessions(sessions))


async def show_last_logs(callback: CallbackQuery, callback_data: SessionCb, api: ApiClient, lang: str,
                         settings: BotSettings) -> None:
    """The last page of a run's log, with Older / Newer buttons."""
    total = (await api.logs(callback_data.id, limit=1, offset=0)).total
    await _send_page(callback, api, lang, callback_data.id, max(total - settings.log_page_lines, 0), settings, edit=False)


async def turn_log_page(callback: CallbackQuery, callback_data: LogsCb, api: ApiClient, lang: str,
                        settings: BotSettings) -> None:
    await _send_page(callback, api, lang, callback_data.id, callback_data.offset, settings, edit=True)


async def _send_page(callback: CallbackQuery, api: ApiClient, lang: str, session_id: int, offset: int,
                     settings: BotSettings, *, edit: bool) -> None:
    page_size = settings.log_page_lines
    page = await api.logs(session_id, limit=page_size, offset=offset)
    if not isinstance(callback.message, Message):
        return
    if not page.items:
        await callback.message.answer(t(lang, "logs-empty", id=session_id))
        return
    text = logs_page(session_id, page.items, first=offset + 1, total=page.total, lang=lang)
    markup = keyboards.log_pages(session_id, offset=offset, page=page_size, total=page.total, lang=lang)
    if edit:
        await callback.message.edit_text(text, reply_markup=markup)
    else:
        await callback.message.answer(text, reply_markup=markup)


def create_router() -> Router:
    """A fresh router (a router attaches to one Dispatcher only; tests and restarts build several)."""
    router = Router(name=__name__)
    router.message.register(show_status, LazyFilter("menu-status"))
    router.message.register(show_status, Command("status"))
    router.message.register(pick_run_to_stop, Command("stop"))
    router.callback_query.register(stop_session, SessionCb.filter(F.action == "stop"))
    router.callback_query.register(resume_session, SessionCb.filter(F.action == "resume"))
    router.message.register(pick_run_for_logs, LazyFilter("menu-logs"))
    router.message.register(pick_run_for_logs, Command("logs"))
    router.callback_query.register(show_last_logs, SessionCb.filter(F.action == "logs"))
    router.callback_query.register(turn_log_page, LogsCb.filter())
    return router
