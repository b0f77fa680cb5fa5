"""The local executor: one spawned child process per run; its messages streamed into asyncio; stop, terminate, kill."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import AsyncIterator
from typing import Any

from api.training.child import runner
from api.training.child.contract import Message, RunSpec

logger = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("spawn")  # never fork a server that may hold torch threads
_END = object()


class TrainingProcess:
    """One child process and the pipe it reports on; messages() yields them until the child is gone."""

    def __init__(self, spec: Any, target: Any = runner.main) -> None:
        """`spec` is a RunSpec for runner.main; benchmarks pass their own target and argument."""
        self.spec = spec
        self._receiver, sender = _CONTEXT.Pipe(duplex=False)
        self._stop_event = _CONTEXT.Event()
        self._process = _CONTEXT.Process(
            target=target, args=(spec, sender, self._stop_event, os.getpid()), daemon=False,
            name=f"training-{getattr(spec, 'session_id', '?')}",
        )
        self._sender = sender
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None

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
        self._sender.close()  # the child holds the only write end: EOF on our side means it is gone
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
                logger.warning("unreadable message from training process %s", self.pid, exc_info=True)
                break
            self._loop.call_soon_threadsafe(self._queue.put_nowait, message)
        self._process.join()
        self._receiver.close()
        self._loop.call_soon_threadsafe(self._queue.put_nowait, _END)

    async def messages(self) -> AsyncIterator[Message]:
        while True:
            message = await self._queue.get()
            if message is _END:
                return
            yield message

    def request_stop(self) -> None:
        self._stop_event.set()

    def terminate(self) -> None:
        if self._process.is_alive():
            self._process.terminate()

    def kill(self) -> None:
        if self._process.is_alive():
            self._process.kill()

    async def stop(self, grace_s: float, kill_after_s: float = 5.0) -> None:
        """Cooperative stop, then SIGTERM after the grace period, then SIGKILL (a supervisor's ladder)."""
        self.request_stop()
        for action, wait_s in ((self.terminate, grace_s), (self.kill, kill_after_s)):
            if await self._wait_exit(wait_s):
                return
            logger.warning("training process %s did not exit in %.0f s: %s", self.pid, wait_s, action.__name__)
            action()
        await self._wait_exit(kill_after_s)

    async def _wait_exit(self, timeout_s: float) -> bool:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while self._process.is_alive():
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(0.1)
        return True


    def describe_exit(self) -> str:
        return describe_exit(self.exitcode)


class LocalProcessExecutor:
    """Runs each spec in a spawned child on this machine (runner.main)."""

    def launch(self, spec: RunSpec) -> TrainingProcess:
        return TrainingProcess(spec)


def describe_exit(code: int | None) -> str:
    if code is None:
        return "the training process is still running"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        hint = " (killed: out of memory, or kill -9)" if -code == signal.SIGKILL else ""
        return f"the training process was killed by {name}{hint}"
    return f"the training process exited with code {code}"
