"""Background work that repeats (flushes, sampling, pruning): it never dies of an error, and a full disk is
logged once when it starts and once when it clears, not as a traceback every tick all night."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from api.core.errors import disk_full

logger = logging.getLogger(__name__)


class FailureLog:
    """What one repeating task says about its failures."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.disk_is_full = False

    def failed(self, exc: BaseException) -> None:
        if disk_full(exc) is None:
            logger.error("%s failed", self.name, exc_info=exc)
        elif not self.disk_is_full:
            self.disk_is_full = True
            logger.error("%s: the disk is full; nothing of it is written until there is room (retrying)", self.name)

    def succeeded(self) -> None:
        if self.disk_is_full:
            self.disk_is_full = False
            logger.warning("%s: there is room on the disk again; writing resumed", self.name)


async def every(seconds: float, action: Callable[[], Awaitable[Any]], name: str, *, at_start: bool = False) -> None:
    """Run `action` every `seconds` until cancelled; errors are logged (see FailureLog) and the next tick retries."""
    failures = FailureLog(name)
    delay = 0.0 if at_start else seconds
    while True:
        await asyncio.sleep(delay)
        delay = seconds
        try:
            await action()
        except Exception as exc:
            failures.failed(exc)
        else:
            failures.succeeded()
