"""Past runs (paged, with status), a run's card with its chart, logs, Resume and Delete; the queue in start order
with priority up / down and Cancel. Deleting and cancelling ask first."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer

from telegram_bot import action_keyboards as kb
from telegram_bot.api_client import ApiClient
from telegram_bot.callbacks import ConfirmCb, QueueCb, RunCb
from telegram_bot.cards import moved_priority, queue_text, runs_text
from telegram_bot.formatting import session_card
from telegram_bot.i18n import t

RUNS_PAGE = 8


async def _runs_view(api: ApiClient, lang: str, *, offset: int, as_of: int) -> tuple[str, InlineKeyboardMarkup | None]:
    page = await api.sessions(limit=RUNS_PAGE, offset=offset, as_of=as_of or None)
    as_of = as_of or (page.items[0].id if page.items else 0)
    text = runs_text(page.items, offset=offset, total=page.total, lang=lang)
    return text, kb.runs_page(page.items, offset=offset, page=RUNS_PAGE, total=page.total, as_of=as_of, lang=lang)


async def list_runs(message: Message, api: ApiClient, lang: str) -> None:
    """The newest runs, whatever their state; Older / Newer page through one snapshot."""
    text, markup = await _runs_view(api, lang, offset=0, as_of=0)
    await message.answer(text, reply_markup=markup)


async def page_runs(callback: CallbackQuery, callback_data: RunCb, api: ApiClient, lang: str) -> None:
    if not isinstance(callback.message, Message):
        return
    text, markup = await _runs_view(api, lang, offset=callback_data.offset, as_of=callback_data.id)
    if callback_data.id:  # a page button: turn the page in place
        await callback.message.edit_text(text, reply_markup=markup)
    else:  # from the Status message: a list of its own
        await callback.message.answer(text, reply_markup=markup)


async def show_run(callback: CallbackQuery, callback_data: RunCb, api: ApiClient, lang: str) -> None:
    session = await api.session(callback_data.id)
    if isinstance(callback.message, Message):
        await callback.message.answer(session_card(session, lang), reply_markup=kb.run_actions(session, lang))


async def send_chart(callback: CallbackQuery, callback_data: RunCb, api: ApiClient, lang: str) -> None:
    chart = await api.chart(callback_data.id)
    if isinstance(callback.message, Message):
        await callback.message.answer_photo(BufferedInputFile(chart, filename=f"session-{callback_data.id}.png"),
                                            caption=t(lang, "run-chart-caption", id=callback_data.id))


async def ask_delete_run(callback: CallbackQuery, callback_data: RunCb, lang: str) -> None:
    if isinstance(callback.message, Message):
        await callback.message.answer(t(lang, "run-delete-ask", id=callback_data.id),
                                      reply_markup=kb.confirm("sdel", callback_data.id, lang))


async def delete_run(callback: CallbackQuery, callback_data: ConfirmCb, api: ApiClient, lang: str) -> None:
    await api.delete_session(callback_data.id)
    if isinstance(callback.message, Message):
        await callback.message.edit_text(t(lang, "run-deleted", id=callback_data.id))


async def said_no(callback: CallbackQuery, lang: str) -> None:
    if isinstance(callback.message, Message):
        await callback.message.edit_text(t(lang, "confirm-cancelled"))


async def _edit_queue(message: Message, api: ApiClient, lang: str) -> None:
    queue = await api.queue()
    try:
        await message.edit_text(queue_text(queue, lang), reply_markup=kb.queue_actions(queue, lang))
    except TelegramBadRequest as exc:
        if "message is not modified" not in exc.message:
            raise


async def show_queue(message: Message, api: ApiClient, lang: str) -> None:
    queue = await api.queue()
    await message.answer(queue_text(queue, lang), reply_markup=kb.queue_actions(queue, lang))


async def open_queue(callback: CallbackQuery, api: ApiClient, lang: str) -> None:
    """From the Status message: the queue in a message of its own."""
    if isinstance(callback.message, Message):
        await show_queue(callback.message, api, lang)


async def refresh_queue(callback: CallbackQuery, api: ApiClient, lang: str) -> None:
    if isinstance(callback.message, Message):
        await _edit_queue(callback.message, api, lang)


async def move(callback: CallbackQuery, callback_data: QueueCb, api: ApiClient, lang: str,
               callback_answer: CallbackAnswer) -> None:
    """One place up or down in the queue, by priority (the server orders by priority, then age)."""
    queue = await api.queue()
    priority = moved_priority(queue.queued, callback_data.id, callback_data.action)
    if priority is None:
        callback_answer.text = t(lang, "queue-cannot-move", id=callback_data.id)
        return
    await api.set_priority(callback_data.id, priority)
    callback_answer.text = t(lang, "queue-moved", id=callback_data.id, priority=priority)
    if isinstance(callback.message, Message):
        await _edit_queue(callback.message, api, lang)


async def ask_cancel(callback: CallbackQuery, callback_data: QueueCb, lang: str) -> None:
    if isinstance(callback.message, Message):
        await callback.message.answer(t(lang, "queue-cancel-ask", id=callback_data.id),
                                      reply_markup=kb.confirm("cancel", callback_data.id, lang))


async def cancel_run(callback: CallbackQuery, callback_data: ConfirmCb, api: ApiClient, lang: str) -> None:
    """Queued: cancelled at once; running: asked to stop (the server's rule)."""
    session = await api.stop_session(callback_data.id)
    if isinstance(callback.message, Message):
        await callback.message.edit_text(t(lang, "queue-cancelled", id=session.id,
                                           status=t(lang, f"session-status-{session.status}")))


def create_router() -> Router:
    """A fresh router (a router attaches to one Dispatcher only; tests and restarts build several)."""
    router = Router(name=__name__)
    router.message.register(list_runs, Command("runs"))
    router.message.register(show_queue, Command("queue"))
    router.callback_query.register(page_runs, RunCb.filter(F.action == "page"))
    router.callback_query.register(show_run, RunCb.filter(F.action == "show"))
    router.callback_query.register(send_chart, RunCb.filter(F.action == "chart"))
    router.callback_query.register(ask_delete_run, RunCb.filter(F.action == "del"))
    router.callback_query.register(said_no, ConfirmCb.filter(~F.yes))
    router.callback_query.register(delete_run, ConfirmCb.filter((F.what == "sdel") & F.yes))
    router.callback_query.register(cancel_run, ConfirmCb.filter((F.what == "cancel") & F.yes))
    router.callback_query.register(open_queue, QueueCb.filter(F.action == "list"))
    router.callback_query.register(refresh_queue, QueueCb.filter(F.action == "refresh"))
    router.callback_query.register(move, QueueCb.filter(F.action.in_({"up", "down"})))
    router.callback_query.register(ask_cancel, QueueCb.filter(F.action == "cancel"))
    return router
