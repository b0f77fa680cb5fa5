"""How many decoded photos the server holds at once: a budget of pixels, not of requests.

A request reserves the most its photos can decode to (count x work_side(count)^2, at most REQUEST_PIXELS) before
decoding and gives it back once it is stored. Two of the biggest requests fit at once, the bound the server has
always had; one-photo requests fit by the dozen, so concurrent clients reach the micro-batcher together. A count
of two requests admitted eight concurrent one-photo clients two at a time: model calls of 1-2 photos, with the
inference thread idle while the next request decoded.

The heap is trimmed (glibc keeps freed memory otherwise) once no request has been inside for IDLE_TRIM_S: a trim
after every request made the next model call fault its memory back in, +10 ms on a 640 px image."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from api.recognition.images import REQUEST_PIXELS, work_side

UNIT = 1_000_000  # pixels a unit of the budget stands for
BUDGET_PIXELS = 2 * REQUEST_PIXELS
IDLE_TRIM_S = 0.5


def pixels_reserved(photos: int) -> int:
    """What a request of `photos` photos reserves: the most they decode to (each is reduced to work_side)."""
    return min(REQUEST_PIXELS, photos * work_side(photos) ** 2)


class DecodeBudget:
    def __init__(self, on_idle: Callable[[], Awaitable[None]], pixels: int = BUDGET_PIXELS,
                 idle_s: float = IDLE_TRIM_S) -> None:
        self.capacity = pixels // UNIT
        self._units = asyncio.Semaphore(self.capacity)
        self._gathering = asyncio.Lock()  # one request gathers its units at a time: no two wait half-served
        self._on_idle, self._idle_s = on_idle, idle_s
        self._admitted = 0  # requests let in so far: an idle wait that sees it change was interrupted
        self._idle_wait: asyncio.Task[None] | None = None
        self.inside = 0

    @asynccontextmanager
    async def admit(self, photos: int) -> AsyncIterator[None]:
        wanted, taken = min(self.capacity, math.ceil(pixels_reserved(photos) / UNIT)), 0
        try:
            async with self._gathering:
                while taken < wanted:
                    await self._units.acquire()
                    taken += 1
            self.inside += 1
            self._admitted += 1
            try:
                yield
            finally:
                self.inside -= 1
                if self.inside == 0 and (self._idle_wait is None or self._idle_wait.done()):
                    self._idle_wait = asyncio.create_task(self._when_idle())
        finally:
            for _ in range(taken):
                self._units.release()

    def close(self) -> None:
        if self._idle_wait is not None:
            self._idle_wait.cancel()

    async def _when_idle(self) -> None:
        admitted = -1
        while admitted != self._admitted or self.inside:  # wait until a whole idle period passes with no request
            admitted = self._admitted
            await asyncio.sleep(self._idle_s)
        await self._on_idle()
