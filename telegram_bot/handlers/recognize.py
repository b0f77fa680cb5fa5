"""Photos, image documents and albums are recognized with the chat's settings; each answer has Why? buttons."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import BufferedInputFile, InputMediaPhoto, Message

from telegram_bot.action_keyboards import explain_buttons
from telegram_bot.albums import AlbumCollector
from telegram_bot.api_client import ApiClient
from telegram_bot.formatting import recognition_caption, recognition_summary
from telegram_bot.i18n import t
from telegram_bot.schemas import RecognitionRead
from telegram_bot.storage import BotStorage, ChatSettings

ALBUM_LIMIT = 10  # photos per sendMediaGroup
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")


def image_file_id(message: Message) -> str | None:
    if message.photo:
        return message.photo[-1].file_id  # the largest size
    if message.document and (message.document.mime_type or "") in IMAGE_TYPES:
        return message.document.file_id
    return None


async def resolve_model(settings: ChatSettings, api: ApiClient) -> int | None:
    """The chat's model, else the newest detection model."""
    if settings.model_id is not None:
        return settings.model_id
    newest = (await api.models(limit=1, task="detect")).items
    return newest[0].id if newest else None


async def recognize_messages(messages: list[Message], bot: Bot, api: ApiClient, chat_store: BotStorage,
                             lang: str) -> RecognitionRead | None:
    chat_id = messages[0].chat.id
    settings = await chat_store.chat_settings(chat_id)
    model_id = await resolve_model(settings, api)
    if model_id is None:
        await messages[0].answer(t(lang, "recognize-no-model"))
        return None
    images = []
    for index, message in enumerate(messages):
        file_id = image_file_id(message)
        buffer = await bot.download(file_id) if file_id else None
        if buffer is not None:
            images.append((f"photo{index}.jpg", buffer.getvalue()))
    await bot.send_chat_action(chat_id, "upload_photo")
    return await api.recognize(images, model_id=model_id, conf=settings.conf,
                               expected_count=settings.expected_count, kit=settings.kit)


async def recognize_album(message: Message, bot: Bot, api: ApiClient, chat_store: BotStorage, lang: str,
                          albums: AlbumCollector) -> None:
    """An album is one batch: annotated photos back as an album, then one summary."""
    messages = await albums.collect(message)
    if messages is None:
        return
    recognition = await recognize_messages(messages, bot, api, chat_store, lang)
    if recognition is None:
        return
    annotated = [await api.fetch(image.image_url) for image in recognition.images]
    for start in range(0, len(annotated), ALBUM_LIMIT):
        media = [InputMediaPhoto(media=BufferedInputFile(data, filename=f"result{start + i}.jpg"))
                 for i, data in enumerate(annotated[start:start + ALBUM_LIMIT])]
        if len(media) == 1:
            await message.answer_photo(media[0].media)
        else:
            await message.answer_media_group(media)
    await message.answer(recognition_summary(recognition, lang), reply_markup=explain_buttons(recognition, lang))


async def recognize_photo(message: Message, bot: Bot, api: ApiClient, chat_store: BotStorage, lang: str) -> None:
    """One photo (or an image sent as a file): the annotated image with the verdict as caption."""
    recognition = await recognize_messages([message], bot, api, chat_store, lang)
    if recognition is None:
        return
    image = recognition.images[0]
    annotated = await api.fetch(image.image_url)
    await message.answer_photo(BufferedInputFile(annotated, filename="result.jpg"),
                               caption=recognition_caption(recognition, image, lang),
                               reply_markup=explain_buttons(recognition, lang))


async def unsupported_document(message: Message, lang: str) -> None:
    await message.answer(t(lang, "recognize-unsupported") + "\n" + t(lang, "recognize-hint"))


def create_router() -> Router:
    """A fresh router (a router attaches to one Dispatcher only; tests and restarts build several)."""
    router = Router(name=__name__)
    router.message.register(recognize_album, F.media_group_id, F.photo | F.document.mime_type.in_(IMAGE_TYPES))
    router.message.register(recognize_photo, F.photo | F.document.mime_type.in_(IMAGE_TYPES))
    router.message.register(unsupported_document, F.document)
    return router
