"""One stream worker process (spawned) and its two pipes: settings in, reports out, read on a thread."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import threading
from typing import Any

from api.streams.worker import main as worker_main
from api.streams.worker.contract import WorkerMessage, WorkerSpec

logger = logging.getLogger(__name__)

_CONTEXT = multiprocessing.get_context("spawn")  # never fork a server that may hold torch threads
_END = object()
STOP_GRACE_S = 5.0


class StreamProcess:
    def __init__(self, spec: WorkerSpec) -> None:
        self._inbox_reader, self._inbox = _CONTEXT.Pipe(duplex=False)
        self._reports, reports_writer = _CONTEXT.Pipe(duplex=False)
        self._process = _CONTEXT.Process(
            target=worker_main.main, args=(spec, self._inbox_reader, reports_writer, os.getpid()), daemon=False,
            name=f"stream-{spec.stream_id}")
        self._reports_writer = reports_writer
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await asyncio.to_thread(self._process.start)
        self._reports_writer.close()  # the worker holds the only write end: EOF here means it is gone
        self._inbox_reader.close()
        threading.Thread(target=self._pump, daemon=True, name=f"stream-pump-{self.pid}").start()

    def _pump(self) -> None:
        assert self._loop is not None
        while True:
            try:
                message = self._reports.recv()
            except (EOFError, OSError):
                break
            except Exception:  # a message torn by a kill mid-write
                logger.warning("unreadable message from stream worker %s", self.pid, exc_info=True)
                break
            self._loop.call_soon_threadsafe(self._queue.put_nowait, message)
        self._process.join()
        self._reports.close()
        self._loop.call_soon_threadsafe(self._queue.put_nowait, _END)

    async def next_message(self, timeout_s: float) -> WorkerMessage | None:
        """The next report; None once the worker is gone; TimeoutError when it said nothing for `timeout_s`."""
        message = await asyncio.wait_for(self._queue.get(), timeout_s)
        return None if message is _END else message

    def send(self, spec: WorkerSpec | None) -> None:
        try:
            self._inbox.send(spec)
        except (OSError, ValueError):  # the worker is gone; the supervisor will notice and restart it
            logger.debug("stream worker %s did not take a message", self.pid)

    def kill(self) -> None:
        if self._process.is_alive():
            self._process.kill()

    async def wait_exit(self, timeout_s: float = STOP_GRACE_S) -> bool:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while self._process.is_alive():
            if asyncio.get_running_loop().time() >= deadline:
                return False
            await asyncio.sleep(0.05)
        return True

    async def stop(self) -> None:
        """Ask (None on the inbox), then SIGTERM, then SIGKILL."""
        self.send(None)
        for action in (self._process.terminate, self._process.kill):
            if await self.wait_exit():
                break
            logger.warning("stream worker %s did not exit in %.0f s: %s", self.pid, STOP_GRACE_S, action.__name__)
            action()
        await self.wait_exit()
        self._inbox.close()

    def describe_exit(self) -> str:
        code = self._process.exitcode
        if code is None:
            return "the worker is still running"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            hint = " (out of memory, or kill -9)" if -code == signal.SIGKILL else ""
            return f"the worker was killed by {name}{hint}"
        return f"the worker exited with code {code}"
