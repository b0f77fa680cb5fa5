"""A spawned child process that reports typed messages on a pipe, read on a thread and handed to asyncio.

Training runs and stream workers both are one: a crash, an OOM or a kill -9 of the child ends there, and its
end shows up here as the end of its messages plus an exit described in words."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import signal
import threading
from collections.abc import AsyncIterator, Callable
from typing import Any

logger = logging.getLogger(__name__)

CONTEXT = multiprocessing.get_context("spawn")  # never fork a server that may hold torch threads
_END = object()


class ChildProcess:
    """`args(sender)` gives the target's arguments around the write end of the report pipe; `child_ends` are the
    other handles only the child uses (closed here once it has started)."""

    def __init__(self, target: Callable[..., Any], args: Callable[[Any], tuple[Any, ...]], *, name: str,
                 noun: str, child_ends: tuple[Any, ...] = ()) -> None:
        self._receiver, sender = CONTEXT.Pipe(duplex=False)
        self._process = CONTEXT.Process(target=target, args=args(sender), daemon=False, name=name)
        self._child_ends = (sender, *child_ends)  # the child holds the only write end: EOF here means it is gone
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.noun = noun

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def exitcode(self) -> int | None:
        return self._process.exitcode

    def is_alive(self) -> bool:
        return self._process.is_alive()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(self._process.start)
        for end in self._child_ends:
            end.close()
        threading.Thread(target=self._pump, daemon=True, name=f"pump-{self.pid}").start()

    def _pump(self) -> None:
        """Blocking reads on a thread; each message is handed to the event loop."""
        assert self._loop is not None
        while True:
            try:
                message = self._receiver.recv()
            except (EOFError, OSError):
                break
            except Exception:  # a message torn by a kill mid-write
                logger.warning("unreadable message from %s %s", self.noun, self.pid, exc_info=True)
                break
            self._loop.call_soon_threadsafe(self._queue.put_nowait, message)
        self._process.join()
        self._receiver.close()
        self._loop.call_soon_threadsafe(self._queue.put_nowait, _END)

    async def messages(self) -> AsyncIterator[Any]:
        while (message := await self._queue.get()) is not _END:
            yield message

    async def next_message(self, timeout_s: float) -> Any | None:
        """The next message; None once the child is gone; TimeoutError when it said nothing for `timeout_s`."""
        message = await asyncio.wait_for(self._queue.get(), timeout_s)
        return None if message is _END else message

    def terminate(self) -> None:
        if self._process.is_alive():
            self._process.terminate()

    def kill(self) -> None:
        if self._process.is_alive():
            self._process.kill()

    async def wait_exit(self, timeout_s: float) -> bool:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while self._process.is_alive():
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def end(self, ask: Callable[[], None], grace_s: float, kill_after_s: float = 5.0) -> None:
        """A supervisor's ladder: ask, then SIGTERM after `grace_s`, then SIGKILL."""
        ask()
        for action, wait_s in ((self.terminate, grace_s), (self.kill, kill_after_s)):
            if await self.wait_exit(wait_s):
                return
            logger.warning("%s %s did not exit in %.0f s: %s", self.noun, self.pid, wait_s, action.__name__)
            action()
        await self.wait_exit(kill_after_s)

    def describe_exit(self) -> str:
        return describe_exit(self.exitcode, self.noun)


def describe_exit(code: int | None, noun: str) -> str:
    if code is None:
        return f"the {noun} is still running"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (killed: out of memory, or kill -9)" if -code == signal.SIGKILL else ""
        return f"the {noun} was killed by {name}{hint}"
    return f"the {noun} exited with code {code}"
