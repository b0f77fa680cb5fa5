"""429 Too Many Requests: every Bot API call waits as long as Telegram says, a bounded number of times."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter
from aiogram.methods.base import TelegramType
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod

logger = logging.getLogger(__name__)

ATTEMPTS = 3
T = TypeVar("T")


def _wait_retry_after(state: RetryCallState) -> float:
    error = state.outcome.exception() if state.outcome else None
    return float(error.retry_after) if isinstance(error, TelegramRetryAfter) else 0.0


def _log_wait(state: RetryCallState) -> None:
    logger.info("Telegram asks to wait %.0fs (try %d)", _wait_retry_after(state), state.attempt_number)


async def _awaited(call: Callable[[], Awaitable[T]]) -> T:
    """tenacity awaits only coroutine functions; a lambda or a partial merely returns an awaitable."""
    return await call()


def _policy(attempts: int) -> AsyncRetrying:
    """Waits `retry_after` seconds after each 429; the last TelegramRetryAfter reaches the caller, who decides."""
    return AsyncRetrying(retry=retry_if_exception_type(TelegramRetryAfter), wait=_wait_retry_after,
                         stop=stop_after_attempt(attempts), before_sleep=_log_wait, reraise=True)


class RetryAfterMiddleware(BaseRequestMiddleware):
    """Registered with `bot.session.middleware(...)`: handlers and the notifier alike get the same policy."""

    def __init__(self, attempts: int = ATTEMPTS) -> None:
        self._attempts = attempts

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        return await _policy(self._attempts)(_awaited, partial(make_request, bot, method))


async def telegram_call(call: Callable[[], Awaitable[T]], *, attempts: int = ATTEMPTS) -> T | None:
    """`call` under the same 429 policy (for a Bot without the middleware); "message is not modified" is no error."""
    try:
        return await _policy(attempts)(_awaited, call)
    except TelegramBadRequest as exc:
        if "message is not modified" in exc.message:
            return None
        raise
