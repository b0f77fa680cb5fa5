"""What the bot remembers between questions, in memory and bounded: the last turns per chat, and the changes
waiting for Confirm. A bot restart forgets both (a Confirm button then says it expired)."""

from __future__ import annotations

import itertools
from collections import OrderedDict, deque
from dataclasses import dataclass

from telegram_bot.ai.llm import Message
from telegram_bot.ai.tools import Action

MAX_CHATS = 1000
MAX_PENDING = 200

Turn = list[Message]  # a question, the model's answers and tool results in between


class ChatMemory:
    """The last `turns` questions with everything that answered them, per chat (the least recent chats dropped)."""

    def __init__(self, turns: int, *, max_chats: int = MAX_CHATS) -> None:
        self._turns, self._max_chats = turns, max_chats
        self._chats: OrderedDict[int, deque[Turn]] = OrderedDict()

    def messages(self, chat_id: int) -> list[Message]:
        return [message for turn in self._chats.get(chat_id, ()) for message in turn]

    def add(self, chat_id: int, turn: Turn) -> None:
        chat = self._chats.setdefault(chat_id, deque(maxlen=self._turns))
        self._chats.move_to_end(chat_id)
        chat.append(turn)
        while len(self._chats) > self._max_chats:
            self._chats.popitem(last=False)

    def clear(self, chat_id: int) -> None:
        self._chats.pop(chat_id, None)


@dataclass
class Pending:
    chat_id: int
    action: Action
    shown: str  # the answer's text as shown above the buttons
    turn: Turn  # its turn in memory: the outcome is noted there for the next question


class PendingActions:
    """Proposed changes by id (the id travels in the button); each runs or is dropped once."""

    def __init__(self, *, limit: int = MAX_PENDING) -> None:
        self._ids = itertools.count(1)
        self._items: OrderedDict[int, Pending] = OrderedDict()
        self._limit = limit

    def add(self, pending: Pending) -> int:
        pending_id = next(self._ids)
        self._items[pending_id] = pending
        while len(self._items) > self._limit:
            self._items.popitem(last=False)
        return pending_id

    def pop(self, pending_id: int, chat_id: int) -> Pending | None:
        """The action, if it is still waiting in this chat (a button of another chat's message gets nothing)."""
        pending = self._items.get(pending_id)
        if pending is None or pending.chat_id != chat_id:
            return None
        return self._items.pop(pending_id)

    def drop_chat(self, chat_id: int) -> None:
        for pending_id in [key for key, item in self._items.items() if item.chat_id == chat_id]:
            del self._items[pending_id]


def note_outcome(turn: Turn, outcome: str) -> None:
    """Adds what became of a proposed change to the turn's last answer, so the model knows next time."""
    last = turn[-1]
    last["content"] = f"{last.get('content') or ''}\n[{outcome}]".strip()
