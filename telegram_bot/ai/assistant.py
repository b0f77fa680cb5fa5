"""One question: the model answers, calling read tools as it needs (a bounded number of rounds); a change it asks
for ends the question as a proposal the user confirms. Memory and pending changes per chat."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Protocol

from telegram_bot.ai.llm import Answer, LlmClient, LlmError, Message
from telegram_bot.ai.memory import ChatMemory, PendingActions, Turn
from telegram_bot.ai.tools import CHANGES, TOOLS, Action, Toolbox, to_json
from telegram_bot.api_client import ApiClient
from telegram_bot.config import BotSettings

logger = logging.getLogger(__name__)

LANGUAGES = {"ru": "Russian", "en": "English"}
SYSTEM_PROMPT = """You are the assistant of a server that trains Ultralytics YOLO models and recognizes objects.
Answer questions about training runs (sessions), models, datasets, the queue and the server's load.
Get every fact from the tools: never invent ids, numbers, names or statuses.
To start or stop a run, call start_session or stop_session: that only proposes it, and the user confirms with a button.
Answer briefly, in plain text without Markdown, in {language}."""


class TooManyRounds(LlmError):
    """The model kept calling tools past the limit."""


class Progress(Protocol):
    """Where an answer shows while it is being made."""

    async def text(self, piece: str) -> None: ...

    async def tool(self, name: str) -> None: ...


@dataclass
class Reply:
    text: str
    action: Action | None = None
    turn: Turn | None = None


class Assistant:
    """Chat with AI for the whole bot; `llm` is None when LLM_BASE_URL (or LLM_MODEL) is not set."""

    def __init__(self, llm: LlmClient | None, *, max_rounds: int = 5, history_turns: int = 8,
                 result_chars: int = 4000) -> None:
        self.llm, self._max_rounds, self._result_chars = llm, max_rounds, result_chars
        self.memory = ChatMemory(history_turns)
        self.pending = PendingActions()
        self._locks: dict[int, asyncio.Lock] = {}

    @classmethod
    def from_settings(cls, settings: BotSettings) -> Assistant:
        llm = None
        if settings.llm_base_url and settings.llm_model:
            key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
            llm = LlmClient.create(settings.llm_base_url, settings.llm_model, key, timeout_s=settings.llm_timeout_s)
        return cls(llm, max_rounds=settings.llm_max_rounds, history_turns=settings.llm_history_turns,
                   result_chars=settings.llm_tool_result_chars)

    async def close(self) -> None:
        if self.llm is not None:
            await self.llm.close()

    def lock(self, chat_id: int) -> asyncio.Lock:
        """One question at a time per chat: memory stays in order."""
        return self._locks.setdefault(chat_id, asyncio.Lock())

    def clear(self, chat_id: int) -> None:
        self.memory.clear(chat_id)
        self.pending.drop_chat(chat_id)

    async def ask(self, chat_id: int, question: str, api: ApiClient, lang: str, progress: Progress) -> Reply:
        """The answer to `question`, remembered for the chat's next one; LlmError when there is none."""
        assert self.llm is not None
        system: Message = {"role": "system", "content": SYSTEM_PROMPT.format(language=LANGUAGES.get(lang, "Russian"))}
        history = self.memory.messages(chat_id)
        turn: Turn = [{"role": "user", "content": question}]
        toolbox = Toolbox(api, limit=self._result_chars)
        for _ in range(self._max_rounds):
            answer = await self.llm.complete([system, *history, *turn], TOOLS, progress.text)
            turn.append(answer.as_message())
            if not answer.tool_calls:
                self.memory.add(chat_id, turn)
                return Reply(answer.text)
            action = await self._use_tools(answer, toolbox, turn, progress)
            if action is not None:
                turn.append({"role": "assistant", "content": "Proposed; waiting for the user to press Confirm or Cancel."})
                self.memory.add(chat_id, turn)
                return Reply(answer.text, action, turn)
        raise TooManyRounds(f"still calling tools after {self._max_rounds} rounds")

    async def _use_tools(self, answer: Answer, toolbox: Toolbox, turn: Turn, progress: Progress) -> Action | None:
        """Runs the read tools, turns the first change into an Action; every call gets its result in `turn`."""
        action: Action | None = None
        for call in answer.tool_calls:
            await progress.tool(call.name)
            if call.name not in CHANGES:
                result = await toolbox.run(call)
            elif action is None:
                result, action = await toolbox.propose(call)
            else:
                result = to_json({"error": "one change at a time: ask again after this one"}, self._result_chars)
            logger.debug("tool %s -> %d characters", call.name, len(result))
            turn.append({"role": "tool", "tool_call_id": call.id, "content": result})
        return action
