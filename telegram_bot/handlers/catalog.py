"""Datasets and models: lists, a .zip sent as a document becomes a dataset, a model sent back as a file."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram_i18n import LazyFilter

from telegram_bot import keyboards
from telegram_bot.api_client import ApiClient
from telegram_bot.callbacks import ModelCb
from telegram_bot.formatting import dataset_line, model_line
from telegram_bot.i18n import t
from telegram_bot.storage import BotStorage

BOT_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # Bot API getFile refuses larger files
BOT_UPLOAD_LIMIT = 50 * 1024 * 1024  # sendDocument refuses larger files


async def list_datasets(message: Message, api: ApiClient, lang: str) -> None:
    datasets = (await api.datasets(limit=30)).items
    if not datasets:
        await message.answer(t(lang, "datasets-empty"))
        return
    lines = [t(lang, "datasets-title"), *(dataset_line(d) for d in datasets), "", t(lang, "datasets-hint")]
    await message.answer("\n".join(lines))


async def upload_dataset(message: Message, bot: Bot, api: ApiClient, lang: str) -> None:
    """A .zip document becomes a dataset (the server validates it and says what is wrong)."""
    document = message.document
    assert document is not None
    name = document.file_name or "dataset.zip"
    if (document.file_size or 0) > BOT_DOWNLOAD_LIMIT:
        await message.answer(t(lang, "dataset-too-big", size=f"{(document.file_size or 0) / 1024 / 1024:.1f}"))
        return
    await message.answer(t(lang, "dataset-uploading", name=name))
    buffer = await bot.download(document.file_id)
    assert buffer is not None
    dataset = await api.upload_dataset(name, buffer.getvalue())
    await message.answer(t(lang, "dataset-created", id=dataset.id, name=dataset.name,
                           images=sum(dataset.info.images.values()), classes=", ".join(dataset.classes)))


async def list_models(message: Message, api: ApiClient, lang: str) -> None:
    models = (await api.models(limit=10)).items
    if not models:
        await message.answer(t(lang, "models-empty"))
        return
    text = "\n".join([t(lang, "models-title"), *(model_line(m) for m in models)])
    await message.answer(text, reply_markup=keyboards.model_actions(models, lang))


async def send_model_file(callback: CallbackQuery, callback_data: ModelCb, api: ApiClient, lang: str) -> None:
    model = await api.model(callback_data.id)
    if not isinstance(callback.message, Message):
        return
    if model.size_bytes > BOT_UPLOAD_LIMIT:
        await callback.message.answer(t(lang, "model-too-big", id=model.id, size=f"{model.size_bytes / 1e6:.0f}"))
        return
    weights = await api.download_model(model.id)
    filename = f"model-{model.id}-{model.name}.pt".replace("/", "_")
    await callback.message.answer_document(BufferedInputFile(weights, filename=filename), caption=model_line(model))


async def use_model(callback: CallbackQuery, callback_data: ModelCb, api: ApiClient, lang: str,
                    chat_store: BotStorage) -> None:
    model = await api.model(callback_data.id)
    if not isinstance(callback.message, Message):
        return
    settings = await chat_store.chat_settings(callback.message.chat.id)
    settings.model_id = model.id
    await chat_store.save_chat_settings(settings)
    await callback.message.answer(t(lang, "model-chosen", id=model.id))


def create_router() -> Router:
    """A fresh router (a router attaches to one Dispatcher only; tests and restarts build several)."""
    router = Router(name=__name__)
    router.message.register(list_datasets, LazyFilter("menu-datasets"))
    router.message.register(upload_dataset, F.document.file_name.lower().endswith(".zip"))
    router.message.register(list_models, LazyFilter("menu-models"))
    router.callback_query.register(send_model_file, ModelCb.filter(F.action == "file"))
    router.callback_query.register(use_model, ModelCb.filter(F.action == "use"))
    return router
