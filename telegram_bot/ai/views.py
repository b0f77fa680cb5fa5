"""Chat with AI's texts and keyboards as pure functions of the language."""

from __future__ import annotations

from html import escape

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from telegram_bot.ai.llm import LlmError, LlmGarbage, LlmTimeout, LlmUnreachable
from telegram_bot.ai.tools import Action, StartSession, StopSession
from telegram_bot.callbacks import AiCb
from telegram_bot.formatting import status_word
from telegram_bot.i18n import t
from telegram_bot.schemas import SessionRead


def clear_keyboard(lang: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t(lang, "ai-clear"), callback_data=AiCb(action="clear"))
    return builder.as_markup()


def confirm_keyboard(pending_id: int, lang: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=t(lang, "ai-confirm"), callback_data=AiCb(action="ok", id=pending_id))
    builder.button(text=t(lang, "ai-cancel"), callback_data=AiCb(action="no", id=pending_id))
    builder.adjust(2)
    return builder.as_markup()


def describe(action: Action, lang: str) -> str:
    """Exactly what Confirm will do."""
    match action:
        case StartSession(fields=fields, dataset_name=dataset_name, model_label=model_label):
            return t(lang, "ai-confirm-start", dataset=escape(f"#{fields['dataset']} {dataset_name}"),
                     task=fields["task"], model=escape(model_label), epochs=fields["epochs"])
        case StopSession(session_id=session_id, name=name, status=status):
            return t(lang, "ai-confirm-stop", id=session_id, name=escape(name), status=status_word(status, lang))
    raise TypeError(f"not an action: {action!r}")


def done_text(action: Action, session: SessionRead, lang: str) -> str:
    if isinstance(action, StartSession):
        return t(lang, "ai-started", id=session.id, name=escape(session.name))
    return t(lang, "ai-stopped", id=session.id, status=status_word(session.status, lang))


def failure_text(error: LlmError, lang: str, timeout_s: float) -> str:
    """A clear reply for each way the model can fail to answer."""
    if isinstance(error, LlmTimeout):
        return t(lang, "ai-timeout", seconds=f"{timeout_s:g}")
    if isinstance(error, LlmUnreachable):
        return t(lang, "ai-unreachable", reason=escape(str(error)[:300]))
    if isinstance(error, LlmGarbage):
        return t(lang, "ai-garbage", reason=escape(str(error)[:300]))
    return t(lang, "ai-too-many-steps")
