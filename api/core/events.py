"""In-process publish/subscribe bus behind WS /events: slow subscribers lose old events, never block."""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    """One message: `type` is "<topic>.<name>", e.g. "system.sample" or "session.epoch"."""

    type: str
    data: dict[str, Any]
    ts: float = field(default_factory=time.time)
    seq: int = 0

    @property
    def topic(self) -> str:
        return self.type.split(".", 1)[0]

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "seq": self.seq, "ts": self.ts, "data": self.data}


class Subscription:
    """A bounded queue of events for one listener, optionally limited to some topics ("stream") or types
    ("stream.status")."""

    def __init__(self, topics: frozenset[str] | None, maxsize: int) -> None:
        self.topics = topics
        self.queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=maxsize)
        self.dropped = 0

    def wants(self, event: Event) -> bool:
        return self.topics is None or event.topic in self.topics or event.type in self.topics

    def offer(self, event: Event) -> None:
        if self.queue.full():
            self.queue.get_nowait()  # drop the oldest: a live view prefers fresh data
            self.dropped += 1
        self.queue.put_nowait(event)

    async def get(self) -> Event:
        return await self.queue.get()


class EventBus:
    """Fan-out of events to subscribers; publish() is synchronous and never awaits a listener."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._subscriptions: set[Subscription] = set()
        self._queue_size = queue_size
        self._seq = itertools.count(1)

    def publish(self, type_: str, data: dict[str, Any]) -> Event:
        event = Event(type=type_, data=data, seq=next(self._seq))
        for subscription in self._subscriptions:
            if subscription.wants(event):
                subscription.offer(event)
        return event

    @asynccontextmanager
    async def subscribe(self, topics: Iterable[str] | None = None) -> AsyncIterator[Subscription]:
        subscription = Subscription(frozenset(topics) if topics else None, self._queue_size)
        self._subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)
