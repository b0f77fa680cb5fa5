"""Chat with AI: the menu button opens a chat with the language model, `/ask <question>` asks from anywhere;
a change the model proposes waits for Confirm; Clear forgets the conversation."""

from __future__ import annotations

import logging
from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from aiogram_i18n import LazyFilter

from telegram_bot import keyboards
from telegram_bot.ai.assistant import Assistant
from telegram_bot.ai.llm import LlmError
from telegram_bot.ai.memory import Pending, note_outcome
from telegram_bot.ai.streaming import AnswerMessage, fit
from telegram_bot.ai.tools import StartSession, perform
from telegram_bot.ai.views import clear_keyboard, confirm_keyboard, describe, done_text, failure_text
from telegram_bot.api_client import ApiClient, ApiError
from telegram_bot.callbacks import AiCb
from telegram_bot.config import BotSettings
from telegram_bot.i18n import LOCALES, t
from telegram_bot.notifier import ProgressNotifier

logger = logging.getLogger(__name__)


class AiChat(StatesGroup):
    chatting = State()


def _not_a_button(message: Message) -> bool:
    """A plain question, not a main-menu button (whichever router handles those) nor a command."""
    text = message.text or ""
    return not text.startswith("/") and text not in {t(lang, key) for lang in LOCALES for key in keyboards.MENU_KEYS}


async def open_chat(message: Message, state: FSMContext, assistant: Assistant, lang: str) -> None:
    """The menu button: how to ask, or how to point the bot at a model when none is set."""
    if assistant.llm is None:
        await message.answer(t(lang, "ai-not-configured"))
        return
    await state.set_state(AiChat.chatting)
    await message.answer(t(lang, "ai-intro"), reply_markup=clear_keyboard(lang))


async def ask_command(message: Message, command: CommandObject, bot: Bot, assistant: Assistant, api: ApiClient,
                      lang: str, settings: BotSettings) -> None:
    question = (command.args or "").strip()
    if not question:
        await message.answer(t(lang, "ai-ask-usage"))
        return
    await answer_question(message, question, bot, assistant, api, lang, settings)


async def chat_text(message: Message, bot: Bot, assistant: Assistant, api: ApiClient, lang: str,
                    settings: BotSettings) -> None:
    await answer_question(message, message.text or "", bot, assistant, api, lang, settings)


async def answer_question(message: Message, question: str, bot: Bot, assistant: Assistant, api: ApiClient, lang: str,
                          settings: BotSettings) -> None:
    """Streams the answer into one message; a proposed change gets Confirm / Cancel under it."""
    if assistant.llm is None:
        await message.answer(t(lang, "ai-not-configured"))
        return
    chat_id = message.chat.id
    lock = assistant.lock(chat_id)
    if lock.locked():
        await message.answer(t(lang, "ai-busy"))
        return
    async with lock:
        placeholder = await message.answer(t(lang, "ai-thinking"))
        view = AnswerMessage(bot, chat_id, placeholder.message_id, lang=lang, interval_s=settings.edit_interval_s)
        try:
            reply = await assistant.ask(chat_id, question[:4000], api, lang, view)
        except LlmError as exc:
            logger.info("chat %s: no answer from the LLM: %s", chat_id, exc)
            await view.finish(failure_text(exc, lang, assistant.llm.timeout_s), clear_keyboard(lang))
            return
        except Exception:  # never a "Thinking…" left hanging
            logger.exception("chat %s: the question failed", chat_id)
            await view.finish(t(lang, "unexpected"), clear_keyboard(lang))
            return
        if reply.action is None or reply.turn is None:
            await view.finish(fit(reply.text), clear_keyboard(lang))
            return
        shown = "\n\n".join(part for part in (fit(reply.text, 3000), describe(reply.action, lang)) if part)
        pending_id = assistant.pending.add(Pending(chat_id, reply.action, shown, reply.turn))
        await view.finish(shown, confirm_keyboard(pending_id, lang))


async def confirm(callback: CallbackQuery, callback_data: AiCb, assistant: Assistant, api: ApiClient, lang: str,
                  notifier: ProgressNotifier) -> None:
    """Confirm: the one API call the proposal showed; a new run is then followed in the chat like the wizard's."""
    if not isinstance(callback.message, Message):
        return
    chat_id = callback.message.chat.id
    pending = assistant.pending.pop(callback_data.id, chat_id)
    if pending is None:  # pressed already, or the bot restarted since
        await callback.answer(t(lang, "ai-expired"), show_alert=True)
        return
    try:
        session = await perform(pending.action, api)
    except ApiError as exc:
        note_outcome(pending.turn, f"confirmed, but the server refused: {exc}")
        await callback.message.edit_text(f"{pending.shown}\n\n{t(lang, 'ai-refused', message=escape(exc.readable()))}",
                                         reply_markup=clear_keyboard(lang))
        return
    note_outcome(pending.turn, f"confirmed: run #{session.id} is now {session.status}")
    await callback.message.edit_text(f"{pending.shown}\n\n{done_text(pending.action, session, lang)}",
                                     reply_markup=clear_keyboard(lang))
    if isinstance(pending.action, StartSession):
        await notifier.follow(chat_id, session, lang)


async def cancel(callback: CallbackQuery, callback_data: AiCb, assistant: Assistant, lang: str) -> None:
    if not isinstance(callback.message, Message):
        return
    pending = assistant.pending.pop(callback_data.id, callback.message.chat.id)
    if pending is None:
        await callback.answer(t(lang, "ai-expired"), show_alert=True)
        return
    note_outcome(pending.turn, "cancelled by the user: nothing was done")
    await callback.message.edit_text(f"{pending.shown}\n\n{t(lang, 'ai-cancelled')}", reply_markup=clear_keyboard(lang))


async def clear(callback: CallbackQuery, assistant: Assistant, lang: str) -> None:
    if isinstance(callback.message, Message):
        assistant.clear(callback.message.chat.id)
    await callback.answer(t(lang, "ai-cleared"))


def create_router() -> Router:
    """A fresh router (a router attaches to one Dispatcher only; tests and restarts build several)."""
    router = Router(name=__name__)
    router.message.register(open_chat, LazyFilter("ai-menu"))
    router.message.register(ask_command, Command("ask"))
    router.message.register(chat_text, AiChat.chatting, F.text, _not_a_button)
    router.callback_query.register(confirm, AiCb.filter(F.action == "ok"))
    router.callback_query.register(cancel, AiCb.filter(F.action == "no"))
    router.callback_query.register(clear, AiCb.filter(F.action == "clear"))
    return router
