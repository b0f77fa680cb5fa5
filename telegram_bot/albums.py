"""Collects the messages of one album (media group): Telegram sends each photo as its own update."""

from __future__ import annotations

import asyncio

from aiogram.types import Message


class AlbumCollector:
    """The first message of a group waits a moment and takes the whole group; the others return None."""

    def __init__(self, wait_s: float) -> None:
        self._wait_s = wait_s
        self._groups: dict[tuple[int, str], list[Message]] = {}

    async def collect(self, message: Message) -> list[Message] | None:
        key = (message.chat.id, message.media_group_id or "")
        group = self._groups.setdefault(key, [])
        group.append(message)
        if len(group) > 1:
            return None
        await asyncio.sleep(self._wait_s)  # updates are handled as tasks, so the others arrive meanwhile
        return sorted(self._groups.pop(key), key=lambda m: m.message_id)
