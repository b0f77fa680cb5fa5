"""A model's card and its actions: Evaluate on a dataset, Export ONNX, Delete (asked first); a .pt becomes a model."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from html import escape

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from telegram_bot import action_keyboards as kb
from telegram_bot.api_client import ApiClient, ApiError
from telegram_bot.callbacks import ConfirmCb, EvalCb, ModelCb
from telegram_bot.cards import evaluation_text, export_too_big_text, model_card
from telegram_bot.handlers.catalog import BOT_DOWNLOAD_LIMIT, BOT_UPLOAD_LIMIT
from telegram_bot.i18n import t
from telegram_bot.schemas import EvaluationRead

logger = logging.getLogger(__name__)

EVAL_POLL_S = 1.0
EVAL_TIMEOUT_S = 6 * 3600
FINISHED = frozenset({"completed", "failed", "cancelled", "stopped", "interrupted"})
_watching: set[asyncio.Task[None]] = set()  # evaluation messages being kept up to date (referenced, not collected)


async def show_model(callback: CallbackQuery, callback_data: ModelCb, api: ApiClient, lang: str) -> None:
    model = await api.model(callback_data.id)
    if isinstance(callback.message, Message):
        await callback.message.answer(model_card(model, lang), reply_markup=kb.model_card_actions(model, lang))


async def pick_eval_dataset(callback: CallbackQuery, callback_data: ModelCb, api: ApiClient, lang: str) -> None:
    model = await api.model(callback_data.id)
    datasets = (await api.datasets(limit=30, task=model.task)).items
    if isinstance(callback.message, Message):
        markup = kb.eval_datasets(model.id, datasets)
        await callback.message.answer(t(lang, "eval-pick" if markup else "eval-no-datasets", id=model.id),
                                      reply_markup=markup)


async def evaluate(callback: CallbackQuery, callback_data: EvalCb, api: ApiClient, lang: str) -> None:
    """Queue the evaluation; one message follows it (state, percent) and ends with the metrics."""
    evaluation = await api.evaluate_model(callback_data.model, callback_data.dataset)
    dataset = (await api.dataset(callback_data.dataset)).name
    if not isinstance(callback.message, Message):
        return
    message = await callback.message.answer(evaluation_text(evaluation, lang, dataset=dataset))
    task = asyncio.create_task(_follow_evaluation(message, evaluation, api, lang, dataset))
    _watching.add(task)
    task.add_done_callback(_watching.discard)


async def _follow_evaluation(message: Message, evaluation: EvaluationRead, api: ApiClient, lang: str,
                             dataset: str) -> None:
    shown = message.text or ""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + EVAL_TIMEOUT_S
    while evaluation.status not in FINISHED and loop.time() < deadline:
        await asyncio.sleep(EVAL_POLL_S)
        percent = None
        try:
            evaluation = await api.evaluation(evaluation.id)
            if evaluation.status == "running":
                percent = (await api.session(evaluation.session_id)).progress.percent
        except ApiError as exc:
            logger.info("evaluation %s not refreshed: %s", evaluation.id, exc)
            continue
        text = evaluation_text(evaluation, lang, dataset=dataset, percent=percent)
        if text != shown:
            with contextlib.suppress(TelegramBadRequest):
                await message.edit_text(text)
            shown = text


async def export_onnx(callback: CallbackQuery, callback_data: ModelCb, bot: Bot, api: ApiClient, lang: str) -> None:
    """The ONNX file as a document when Telegram takes it (50 MB), else its size and the curl command."""
    if not isinstance(callback.message, Message):
        return
    await bot.send_chat_action(callback.message.chat.id, "upload_document")
    export = await api.export_model(callback_data.id)
    if export.size_bytes > BOT_UPLOAD_LIMIT:
        await callback.message.answer(export_too_big_text(export.model_id, export.size_bytes, api.base_url, lang))
        return
    onnx = await api.download_model(export.model_id, fmt="onnx")
    document = BufferedInputFile(onnx, filename=f"model-{export.model_id}.onnx")
    await callback.message.answer_document(document, caption=t(lang, "export-done", id=export.model_id,
                                                               imgsz=export.imgsz, size=f"{export.size_bytes / 1e6:.1f}"))


async def ask_delete(callback: CallbackQuery, callback_data: ModelCb, api: ApiClient, lang: str) -> None:
    model = await api.model(callback_data.id)
    if isinstance(callback.message, Message):
        await callback.message.answer(t(lang, "model-delete-ask", id=model.id, name=escape(model.name)),
                                      reply_markup=kb.confirm("mdel", model.id, lang))


async def delete_model(callback: CallbackQuery, callback_data: ConfirmCb, api: ApiClient, lang: str,
                       callback_answer: CallbackAnswer) -> None:
    """The server decides who may (admin keys, or the key that made it); a refusal is said by the error handler."""
    await api.delete_model(callback_data.id)
    callback_answer.text = t(lang, "model-deleted", id=callback_data.id)
    if isinstance(callback.message, Message):
        await callback.message.edit_text(t(lang, "model-deleted", id=callback_data.id))


async def upload_model(message: Message, bot: Bot, api: ApiClient, lang: str) -> None:
    """A .pt document becomes a model (the server loads it safely and says what is wrong)."""
    document = message.document
    assert document is not None
    name = document.file_name or "model.pt"
    if (document.file_size or 0) > BOT_DOWNLOAD_LIMIT:
        await message.answer(t(lang, "model-upload-too-big", size=f"{(document.file_size or 0) / 1024 / 1024:.1f}"))
        return
    await message.answer(t(lang, "model-uploading", name=escape(name)))
    buffer = await bot.download(document.file_id)
    assert buffer is not None
    model = await api.upload_model(name, buffer.getvalue())
    await message.answer(t(lang, "model-uploaded-done", id=model.id, name=escape(model.name), task=model.task,
                           classes=escape(", ".join(model.classes))), reply_markup=kb.model_card_actions(model, lang))


def create_router() -> Router:
    """A fresh router (a router attaches to one Dispatcher only; tests and restarts build several)."""
    router = Router(name=__name__)
    router.callback_query.register(show_model, ModelCb.filter(F.action == "info"))
    router.callback_query.register(pick_eval_dataset, ModelCb.filter(F.action == "eval"))
    router.callback_query.register(evaluate, EvalCb.filter())
    router.callback_query.register(export_onnx, ModelCb.filter(F.action == "onnx"))
    router.callback_query.register(ask_delete, ModelCb.filter(F.action == "del"))
    router.callback_query.register(delete_model, ConfirmCb.filter((F.what == "mdel") & F.yes))
    router.message.register(upload_model, F.document.file_name.lower().endswith(".pt"))
    return router
