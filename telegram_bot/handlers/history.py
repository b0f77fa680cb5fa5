"""My history: this Telegram user's recognitions (newest first, paged, a tap shows the annotated photos again), my
summary, and Why? (the heatmap of a photo)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardMarkup, InputMediaPhoto, Message

from telegram_bot import action_keyboards as kb
from telegram_bot.api_client import ApiClient
from telegram_bot.callbacks import ExplainCb, HistoryCb
from telegram_bot.cards import history_text, summary_text
from telegram_bot.formatting import recognition_caption, recognition_summary
from telegram_bot.i18n import t

HISTORY_PAGE = 8


def on_behalf_of(user_id: int) -> str:
    """How the server stores who asked, for the bot's requests (X-On-Behalf-Of)."""
    return f"tg:{user_id}"


async def _history_view(api: ApiClient, user_id: int, lang: str, *, offset: int,
                        as_of: int) -> tuple[str, InlineKeyboardMarkup | None]:
    page = await api.recognitions(user=on_behalf_of(user_id), limit=HISTORY_PAGE, offset=offset, as_of=as_of or None)
    as_of = as_of or (page.items[0].id if page.items else 0)
    text = history_text(page.items, offset=offset, total=page.total, lang=lang)
    return text, kb.history_page(page.items, offset=offset, page=HISTORY_PAGE, total=page.total, as_of=as_of, lang=lang)


async def my_history(message: Message, api: ApiClient, lang: str) -> None:
    if message.from_user is None:
        return
    text, markup = await _history_view(api, message.from_user.id, lang, offset=0, as_of=0)
    await message.answer(text, reply_markup=markup)


async def page_history(callback: CallbackQuery, callback_data: HistoryCb, api: ApiClient, lang: str) -> None:
    if not isinstance(callback.message, Message):
        return
    text, markup = await _history_view(api, callback.from_user.id, lang, offset=callback_data.offset,
                                       as_of=callback_data.id)
    if callback_data.id:  # Older / Newer: the page turns in place
        await callback.message.edit_text(text, reply_markup=markup)
    else:
        await callback.message.answer(text, reply_markup=markup)


async def show_recognition(callback: CallbackQuery, callback_data: HistoryCb, api: ApiClient, lang: str) -> None:
    """The annotated photo(s) again, as when it was answered, with Why?."""
    recognition = await api.recognition(callback_data.id)
    if not isinstance(callback.message, Message) or not recognition.images:
        return
    images = recognition.images[: kb.ALBUM_LIMIT]
    photos = [await api.fetch(image.image_url) for image in images]
    markup = kb.explain_buttons(recognition, lang)
    if len(photos) == 1:
        await callback.message.answer_photo(BufferedInputFile(photos[0], filename=f"recognition-{recognition.id}.jpg"),
                                            caption=recognition_caption(recognition, images[0], lang), reply_markup=markup)
        return
    await callback.message.answer_media_group([InputMediaPhoto(media=BufferedInputFile(data, filename=f"r{i}.jpg"))
                                               for i, data in enumerate(photos)])
    await callback.message.answer(recognition_summary(recognition, lang), reply_markup=markup)


async def my_summary(callback: CallbackQuery, api: ApiClient, lang: str) -> None:
    summary = await api.recognition_summary()
    mine = on_behalf_of(callback.from_user.id)
    group = next((g for g in summary.groups if g.key == mine), None)
    if isinstance(callback.message, Message):
        await callback.message.answer(summary_text(group, lang))


async def explain(callback: CallbackQuery, callback_data: ExplainCb, api: ApiClient, lang: str) -> None:
    """Why? — the heatmap of what the model looked at in that photo."""
    heatmap = await api.explain(callback_data.id, callback_data.n)
    if isinstance(callback.message, Message):
        photo = BufferedInputFile(heatmap, filename=f"explain-{callback_data.id}-{callback_data.n}.jpg")
        await callback.message.answer_photo(photo, caption=t(lang, "explain-caption", id=callback_data.id,
                                                             n=callback_data.n + 1))


def create_router() -> Router:
    """A fresh router (a router attaches to one Dispatcher only; tests and restarts build several)."""
    router = Router(name=__name__)
    router.message.register(my_history, Command("history"))
    router.callback_query.register(page_history, HistoryCb.filter(F.action == "page"))
    router.callback_query.register(show_recognition, HistoryCb.filter(F.action == "show"))
    router.callback_query.register(my_summary, HistoryCb.filter(F.action == "sum"))
    router.callback_query.register(explain, ExplainCb.filter())
    return router
