"""Streams: the list with Start / Stop and Snapshot per stream, edited in place; a chat that opens it hears alerts."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram_i18n import LazyFilter

from telegram_bot import keyboards
from telegram_bot.api_client import ApiClient, ApiError
from telegram_bot.callbacks import StreamCb
from telegram_bot.i18n import t
from telegram_bot.storage import BotStorage
from telegram_bot.stream_formatting import stream_caption, streams_empty_text, streams_text

STREAMS_SHOWN = 20  # two buttons each; a longer list is the API's (GET /streams)
NO_FRAME = {"stream_not_running": "stream-not-running", "no_preview": "stream-no-frame"}  # error code -> text


async def _listing(api: ApiClient, lang: str, *, alerts: bool) -> tuple[str, InlineKeyboardMarkup | None]:
    streams = (await api.streams(limit=STREAMS_SHOWN)).items
    if not streams:
        return streams_empty_text(api.base_url, lang), None
    return streams_text(streams, lang), keyboards.stream_actions(streams, lang, alerts=alerts)


async def show_streams(message: Message, api: ApiClient, lang: str, chat_store: BotStorage) -> None:
    """Every stream with its status, fps and line counts."""
    alerts = await chat_store.watch_streams(chat_id=message.chat.id, lang=lang)
    text, markup = await _listing(api, lang, alerts=alerts)
    await message.answer(text, reply_markup=markup)


async def _edit_listing(callback: CallbackQuery, api: ApiClient, lang: str, chat_store: BotStorage) -> None:
    if not isinstance(callback.message, Message):
        return
    alerts = await chat_store.watch_streams(chat_id=callback.message.chat.id, lang=lang)
    text, markup = await _listing(api, lang, alerts=alerts)
    try:
        await callback.message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        if "message is not modified" not in exc.message:  # Refresh with nothing new
            raise


async def refresh_streams(callback: CallbackQuery, api: ApiClient, lang: str, chat_store: BotStorage) -> None:
    await _edit_listing(callback, api, lang, chat_store)


async def switch_stream(callback: CallbackQuery, callback_data: StreamCb, api: ApiClient, lang: str,
                        chat_store: BotStorage, callback_answer: CallbackAnswer) -> None:
    """Start or Stop (the API's refusal, e.g. 403 for a viewer key, goes to the error handler), then the list again."""
    if callback_data.action == "start":
        stream = await api.start_stream(callback_data.id)
        callback_answer.text = t(lang, "stream-started", name=stream.name)
    else:
        stream = await api.stop_stream(callback_data.id)
        callback_answer.text = t(lang, "stream-stopped", name=stream.name)
    await _edit_listing(callback, api, lang, chat_store)


async def switch_alerts(callback: CallbackQuery, callback_data: StreamCb, api: ApiClient, lang: str,
                        chat_store: BotStorage, callback_answer: CallbackAnswer) -> None:
    if not isinstance(callback.message, Message):
        return
    on = bool(callback_data.id)
    await chat_store.set_stream_alerts(chat_id=callback.message.chat.id, lang=lang, on=on)
    callback_answer.text = t(lang, "streams-alerts-now-on" if on else "streams-alerts-now-off")
    await _edit_listing(callback, api, lang, chat_store)


async def send_snapshot(callback: CallbackQuery, callback_data: StreamCb, api: ApiClient, lang: str) -> None:
    """The latest annotated frame with the counts; why there is none when the stream is stopped or just started."""
    if not isinstance(callback.message, Message):
        return
    try:
        jpeg = await api.stream_preview(callback_data.id)
    except ApiError as exc:
        if exc.code not in NO_FRAME:
            raise
        stream = await api.stream(callback_data.id)
        await callback.message.answer(t(lang, NO_FRAME[exc.code], name=escape(stream.name)))
        return
    stream = await api.stream(callback_data.id)
    photo = BufferedInputFile(jpeg, filename=f"stream-{stream.id}.jpg")
    await callback.message.answer_photo(photo, caption=stream_caption(stream, lang))


def create_router() -> Router:
    """A fresh router (a router attaches to one Dispatcher only; tests and restarts build several)."""
    router = Router(name=__name__)
    router.message.register(show_streams, LazyFilter("menu-streams"))
    router.callback_query.register(refresh_streams, StreamCb.filter(F.action == "list"))
    router.callback_query.register(switch_stream, StreamCb.filter(F.action.in_({"start", "stop"})))
    router.callback_query.register(switch_alerts, StreamCb.filter(F.action == "alerts"))
    router.callback_query.register(send_snapshot, StreamCb.filter(F.action == "shot"))
    return router
