"""Per-address lockout after repeated failures, and the aggregation of what is refused while locked out."""

from __future__ import annotations

import logging
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)

THROTTLED_WINDOW_S = 60.0


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    max_failures: int = 10
    window_s: float = 60.0
    lockout_s: float = 300.0


class FailureTracker:
    """Counts failed attempts per client address and locks a client out after too many."""

    def __init__(self, policy: LockoutPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self._policy = policy
        self._clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._locked_until: dict[str, float] = {}

    def retry_after(self, client: str) -> float:
        """Seconds the client must still wait, 0 when it is not locked out."""
        until = self._locked_until.get(client)
        if until is None:
            return 0.0
        remaining = until - self._clock()
        if remaining <= 0:
            del self._locked_until[client]
            return 0.0
        return remaining

    def record_failure(self, client: str) -> None:
        now = self._clock()
        failures = self._failures[client]
        failures.append(now)
        while failures and failures[0] < now - self._policy.window_s:
            failures.popleft()
        if len(failures) >= self._policy.max_failures:
            self._locked_until[client] = now + self._policy.lockout_s
            failures.clear()
            logger.warning("auth: client %s locked out for %.0f s after repeated failures", client, self._policy.lockout_s)


@dataclass(slots=True)
class _Window:
    started: float
    method: str
    path: str
    count: int = 0


class ThrottledAttempts:
    """Requests refused during a lockout: one row per address per minute with a count, and one log line,
    instead of a row and a WARNING per request (a fuzzer sends thousands)."""

    Row = tuple[float, None, str, str, str, str, int]

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._open: dict[str, _Window] = {}

    def add(self, client: str, method: str, path: str) -> None:
        window = self._open.get(client)
        if window is None:
            window = self._open[client] = _Window(self._clock(), method, path)
            logger.warning("auth locked_out: client=%s %s %s (further refusals this minute are counted)",
                           client, method, path)
        window.count += 1

    def take(self, *, final: bool = False) -> list[Row]:
        """Rows of the windows that ended (all of them when `final`), ready for auth_attempts."""
        now = self._clock()
        done = [client for client, window in self._open.items() if final or now - window.started >= THROTTLED_WINDOW_S]
        rows = []
        for client in done:
            window = self._open.pop(client)
            rows.append((window.started, None, client, window.method, window.path, "locked_out", window.count))
        return rows
