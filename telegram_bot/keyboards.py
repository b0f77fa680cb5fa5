"""Keyboards as pure functions of API objects and the language."""

from __future__ import annotations

from collections.abc import Iterable

from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder, ReplyKeyboardBuilder

from telegram_bot.callbacks import LogsCb, ModelCb, SessionCb, SettingsCb, StreamCb, WizardCb
from telegram_bot.i18n import t
from telegram_bot.schemas import DatasetRead, ModelRead, SessionRead, StreamRead

MENU_KEYS = ("menu-train", "menu-status", "menu-datasets", "menu-models", "menu-recognize", "menu-logs", "menu-streams",
             "ai-menu", "menu-settings")
EPOCH_PRESETS = (1, 3, 10, 30, 100)
CONF_PRESETS = ("0.25", "0.4", "0.5", "0.6", "0.75")
ARCHITECTURES = {"detect": ("yolo11n.yaml", "yolov8n.yaml", "yolo26n.yaml"), "classify": ("yolo11n-cls.yaml",)}


def main_menu(lang: str) -> ReplyKeyboardMarkup:
    builder = ReplyKeyboardBuilder()
    for key in MENU_KEYS:
        builder.button(text=t(lang, key))
    builder.adjust(3)
    return builder.as_markup(resize_keyboard=True, is_persistent=True)


def _wizard_nav(builder: InlineKeyboardBuilder, lang: str, *, back: bool = True) -> None:
    if back:
        builder.button(text=t(lang, "back"), callback_data=WizardCb(step="back"))
    builder.button(text=t(lang, "cancel"), callback_data=WizardCb(step="cancel"))


def wizard_datasets(datasets: Iterable[DatasetRead], lang: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    count = 0
    for dataset in datasets:
        builder.button(text=f"#{dataset.id} {dataset.name} ({dataset.task})",
                       callback_data=WizardCb(step="ds", value=str(dataset.id)))
        count += 1
    _wizard_nav(builder, lang, back=False)
    builder.adjust(*([1] * count), 1)
    return builder.as_markup()


def wizard_models(task: str, models: Iterable[ModelRead], lang: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    architectures = ARCHITECTURES.get(task, ())
    for name in architectures:
        builder.button(text=f"🆕 {name}", callback_data=WizardCb(step="m", value=name))
    registered = 0
    for model in models:
        builder.button(text=f"🧠 #{model.id} {model.name}", callback_data=WizardCb(step="m", value=str(model.id)))
        registered += 1
    _wizard_nav(builder, lang)
    builder.adjust(*([len(architectures)] if architectures else []), *([1] * registered), 2)
    return builder.as_markup()


def wizard_epochs(lang: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for epochs in EPOCH_PRESETS:
        builder.button(text=str(epochs), callback_data=WizardCb(step="ep", value=str(epochs)))
    builder.button(text=t(lang, "custom"), callback_data=WizardCb(step="custom"))
    _wizard_nav(builder, lang)
    builder.adjust(len(EPOCH_PRESETS), 1, 2)
    return builder.as_markup()


def wizard_confirm(lang: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t(lang, "wizard-start"), callback_data=WizardCb(step="go"))
    _wizard_nav(builder, lang)
    builder.adjust(1, 2)
    return builder.as_markup()


def wizard_cancel_only(lang: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    _wizard_nav(builder, lang)
    return builder.as_markup()


def session_controls(session: SessionRead, lang: str) -> InlineKeyboardMarkup | None:
    """Stop on a queued or running run, Resume on a stopped or interrupted one, nothing on a finished one."""
    builder = InlineKeyboardBuilder()
    if session.status in ("queued", "running") and not session.stop_requested:
        builder.button(text=t(lang, "stop", id=session.id), callback_data=SessionCb(action="stop", id=session.id))
    elif session.status in ("stopped", "interrupted"):
        builder.button(text=t(lang, "resume", id=session.id), callback_data=SessionCb(action="resume", id=session.id))
    else:
        return None
    return builder.as_markup()


def stop_buttons(sessions: Iterable[SessionRead], lang: str) -> InlineKeyboardMarkup | None:
    builder = InlineKeyboardBuilder()
    for session in sessions:
        builder.button(text=t(lang, "stop", id=session.id), callback_data=SessionCb(action="stop", id=session.id))
    builder.adjust(2)
    markup = builder.as_markup()
    return markup if markup.inline_keyboard else None


def log_sessions(sessions: Iterable[SessionRead]) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for session in sessions:
        builder.button(text=f"#{session.id} {session.name} · {session.status}",
                       callback_data=SessionCb(action="logs", id=session.id))
    builder.adjust(1)
    return builder.as_markup()


def log_pages(session_id: int, *, offset: int, page: int, total: int, lang: str) -> InlineKeyboardMarkup | None:
    builder = InlineKeyboardBuilder()
    if offset > 0:
        builder.button(text=t(lang, "logs-older"), callback_data=LogsCb(id=session_id, offset=max(offset - page, 0)))
    if offset + page < total:
        builder.button(text=t(lang, "logs-newer"), callback_data=LogsCb(id=session_id, offset=offset + page))
    markup = builder.as_markup()
    return markup if markup.inline_keyboard else None


def model_actions(models: Iterable[ModelRead], lang: str) -> InlineKeyboardMarkup | None:
    """Details, File and (detection models) Use: a row per model."""
    builder = InlineKeyboardBuilder()
    rows = []
    for model in models:
        rows.append(3 if model.task == "detect" else 2)
        builder.button(text=t(lang, "model-details", id=model.id), callback_data=ModelCb(action="info", id=model.id))
        builder.button(text=t(lang, "model-send", id=model.id), callback_data=ModelCb(action="file", id=model.id))
        if model.task == "detect":
            builder.button(text=t(lang, "model-use", id=model.id), callback_data=ModelCb(action="use", id=model.id))
    builder.adjust(*rows)
    markup = builder.as_markup()
    return markup if markup.inline_keyboard else None


def settings_menu(lang: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for action, key in (("model", "settings-model"), ("conf", "settings-conf"), ("check", "settings-check"),
                        ("clear", "settings-clear"), ("notify", "settings-notify")):
        builder.button(text=t(lang, key), callback_data=SettingsCb(action=action))
    builder.adjust(2, 2, 1)
    return builder.as_markup()


def settings_models(models: Iterable[ModelRead], lang: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t(lang, "settings-auto"), callback_data=SettingsCb(action="setm", value="auto"))
    for model in models:
        builder.button(text=f"#{model.id} {model.name}", callback_data=SettingsCb(action="setm", value=str(model.id)))
    builder.adjust(1)
    return builder.as_markup()


def settings_conf() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for conf in CONF_PRESETS:
        builder.button(text=conf, callback_data=SettingsCb(action="setc", value=conf))
    builder.adjust(len(CONF_PRESETS))
    return builder.as_markup()


def stream_is_on(stream: StreamRead) -> bool:
    """Working, or failed and about to be restarted (enabled): Stop is what applies, else Start."""
    return stream.status in ("starting", "running", "reconnecting") or (stream.enabled and stream.status == "failed")


def stream_actions(streams: Iterable[StreamRead], lang: str, *, alerts: bool) -> InlineKeyboardMarkup:
    """Start or Stop and Snapshot per stream; Refresh, and stream alerts off (or on) for the chat."""
    builder = InlineKeyboardBuilder()
    count = 0
    for stream in streams:
        name = stream.name[:24]
        action, key = ("stop", "stream-stop") if stream_is_on(stream) else ("start", "stream-start")
        builder.button(text=t(lang, key, name=name), callback_data=StreamCb(action=action, id=stream.id))
        builder.button(text=t(lang, "stream-snapshot", name=name), callback_data=StreamCb(action="shot", id=stream.id))
        count += 1
    builder.button(text=t(lang, "streams-refresh"), callback_data=StreamCb(action="list"))
    builder.button(text=t(lang, "streams-alerts-off" if alerts else "streams-alerts-on"),
                   callback_data=StreamCb(action="alerts", id=0 if alerts else 1))
    builder.adjust(*([2] * count), 2)
    return builder.as_markup()
