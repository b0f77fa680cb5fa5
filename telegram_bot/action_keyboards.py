"""Keyboards of the model card, past runs, queue, history and the "are you sure?" question: pure functions."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from telegram_bot.callbacks import (
    ConfirmCb,
    EvalCb,
    ExplainCb,
    HistoryCb,
    ModelCb,
    QueueCb,
    RunCb,
    SessionCb,
    SettingsCb,
)
from telegram_bot.i18n import t
from telegram_bot.schemas import DatasetRead, ModelRead, QueueRead, RecognitionRead, SessionRead
from telegram_bot.storage import NOTIFY_MODES

ALBUM_LIMIT = 10
NOTIFY_KEYS = {"all": "notify-all", "mine": "notify-mine", "none": "notify-none"}


def _markup(builder: InlineKeyboardBuilder) -> InlineKeyboardMarkup | None:
    markup = builder.as_markup()
    return markup if markup.inline_keyboard else None


def confirm(what: str, item_id: int, lang: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t(lang, "confirm-yes"), callback_data=ConfirmCb(what=what, id=item_id, yes=True))
    builder.button(text=t(lang, "confirm-no"), callback_data=ConfirmCb(what=what, id=item_id, yes=False))
    return builder.as_markup()


def model_card_actions(model: ModelRead, lang: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t(lang, "model-send", id=model.id), callback_data=ModelCb(action="file", id=model.id))
    builder.button(text=t(lang, "model-evaluate"), callback_data=ModelCb(action="eval", id=model.id))
    builder.button(text=t(lang, "model-export"), callback_data=ModelCb(action="onnx", id=model.id))
    builder.button(text=t(lang, "model-delete"), callback_data=ModelCb(action="del", id=model.id))
    if model.session_id is not None:
        builder.button(text=t(lang, "run-chart"), callback_data=RunCb(action="chart", id=model.session_id))
    builder.adjust(2, 2, 1)
    return builder.as_markup()


def eval_datasets(model_id: int, datasets: Sequence[DatasetRead]) -> InlineKeyboardMarkup | None:
    builder = InlineKeyboardBuilder()
    for dataset in datasets:
        builder.button(text=f"#{dataset.id} {dataset.name}", callback_data=EvalCb(model=model_id, dataset=dataset.id))
    builder.adjust(1)
    return _markup(builder)


def status_actions(active: Sequence[SessionRead], lang: str) -> InlineKeyboardMarkup:
    """Stop per active run, then Past runs and Queue."""
    builder = InlineKeyboardBuilder()
    for session in active:
        builder.button(text=t(lang, "stop", id=session.id), callback_data=SessionCb(action="stop", id=session.id))
    builder.button(text=t(lang, "runs-open"), callback_data=RunCb(action="page"))
    builder.button(text=t(lang, "queue-open"), callback_data=QueueCb(action="list"))
    builder.adjust(*([2] * (len(active) // 2)), *([1] if len(active) % 2 else []), 2)
    return builder.as_markup()


def runs_page(sessions: Sequence[SessionRead], *, offset: int, page: int, total: int, as_of: int,
              lang: str) -> InlineKeyboardMarkup | None:
    builder = InlineKeyboardBuilder()
    for session in sessions:
        builder.button(text=f"#{session.id} {session.name[:28]} · {t(lang, f'session-status-{session.status}')}",
                       callback_data=RunCb(action="show", id=session.id))
    nav = 0
    if offset > 0:
        builder.button(text=t(lang, "page-newer"), callback_data=RunCb(action="page", id=as_of, offset=max(offset - page, 0)))
        nav += 1
    if offset + page < total:
        builder.button(text=t(lang, "page-older"), callback_data=RunCb(action="page", id=as_of, offset=offset + page))
        nav += 1
    builder.adjust(*([1] * len(sessions)), *([nav] if nav else []))
    return _markup(builder)


def run_actions(session: SessionRead, lang: str) -> InlineKeyboardMarkup:
    """Chart and Logs of any run; Stop, or Resume, as its state allows; Delete."""
    builder = InlineKeyboardBuilder()
    builder.button(text=t(lang, "run-chart"), callback_data=RunCb(action="chart", id=session.id))
    builder.button(text=t(lang, "run-logs"), callback_data=SessionCb(action="logs", id=session.id))
    if session.status in ("queued", "running") and not session.stop_requested:
        builder.button(text=t(lang, "stop", id=session.id), callback_data=SessionCb(action="stop", id=session.id))
    elif session.status in ("stopped", "interrupted"):
        builder.button(text=t(lang, "resume", id=session.id), callback_data=SessionCb(action="resume", id=session.id))
    builder.button(text=t(lang, "run-delete"), callback_data=RunCb(action="del", id=session.id))
    builder.adjust(2, 2)
    return builder.as_markup()


def queue_actions(queue: QueueRead, lang: str) -> InlineKeyboardMarkup:
    """Cancel per running run; up, down and Cancel per queued one, in start order; Refresh."""
    builder = InlineKeyboardBuilder()
    rows: list[int] = []
    for session in queue.running:
        builder.button(text=t(lang, "queue-cancel", id=session.id), callback_data=QueueCb(action="cancel", id=session.id))
        rows.append(1)
    for session in queue.queued:
        builder.button(text=t(lang, "queue-up", id=session.id), callback_data=QueueCb(action="up", id=session.id))
        builder.button(text=t(lang, "queue-down", id=session.id), callback_data=QueueCb(action="down", id=session.id))
        builder.button(text=t(lang, "queue-cancel", id=session.id), callback_data=QueueCb(action="cancel", id=session.id))
        rows.append(3)
    builder.button(text=t(lang, "streams-refresh"), callback_data=QueueCb(action="refresh"))
    builder.adjust(*rows, 1)
    return builder.as_markup()


def recognize_actions(lang: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t(lang, "history-open"), callback_data=HistoryCb(action="page"))
    builder.button(text=t(lang, "history-summary-open"), callback_data=HistoryCb(action="sum"))
    return builder.as_markup()


def history_page(recognitions: Sequence[RecognitionRead], *, offset: int, page: int, total: int, as_of: int,
                 lang: str) -> InlineKeyboardMarkup | None:
    builder = InlineKeyboardBuilder()
    for recognition in recognitions:
        mark = {"complete": "✅", "incomplete": "⚠️"}.get(recognition.verdict or "", "🔎")
        builder.button(text=f"{mark} #{recognition.id}", callback_data=HistoryCb(action="show", id=recognition.id))
    nav = 0
    if offset > 0:
        builder.button(text=t(lang, "page-newer"),
                       callback_data=HistoryCb(action="page", id=as_of, offset=max(offset - page, 0)))
        nav += 1
    if offset + page < total:
        builder.button(text=t(lang, "page-older"), callback_data=HistoryCb(action="page", id=as_of, offset=offset + page))
        nav += 1
    builder.adjust(*([4] * (len(recognitions) // 4)), *([len(recognitions) % 4] if len(recognitions) % 4 else []),
                   *([nav] if nav else []))
    return _markup(builder)


def explain_buttons(recognition: RecognitionRead, lang: str) -> InlineKeyboardMarkup | None:
    """Why? per photo (the heatmap): one button for a single photo, numbered ones for an album."""
    builder = InlineKeyboardBuilder()
    images = recognition.images[:ALBUM_LIMIT]
    for image in images:
        text = t(lang, "explain") if len(images) == 1 else t(lang, "explain-n", n=image.index + 1)
        builder.button(text=text, callback_data=ExplainCb(id=recognition.id, n=image.index))
    builder.adjust(5)
    return _markup(builder)


def notify_modes(current: str, lang: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for mode in NOTIFY_MODES:
        mark = "✓ " if mode == current else ""
        builder.button(text=mark + t(lang, NOTIFY_KEYS[mode]), callback_data=SettingsCb(action="setn", value=mode))
    builder.adjust(1)
    return builder.as_markup()
