"""One stream worker process (spawned) and its two pipes: settings in, reports out (read on a thread)."""

from __future__ import annotations

import logging
import os

from api.core.child_process import CONTEXT, ChildProcess
from api.streams.worker import main as worker_main
from api.streams.worker.contract import WorkerSpec

logger = logging.getLogger(__name__)

STOP_GRACE_S = 5.0


class StreamProcess(ChildProcess):
    def __init__(self, spec: WorkerSpec) -> None:
        inbox_reader, self._inbox = CONTEXT.Pipe(duplex=False)
        super().__init__(worker_main.main, lambda sender: (spec, inbox_reader, sender, os.getpid()),
                         name=f"stream-{spec.stream_id}", noun="worker", child_ends=(inbox_reader,))

    def send(self, spec: WorkerSpec | None) -> None:
        """New settings for the worker, or None: stop."""
        try:
            self._inbox.send(spec)
        except (OSError, ValueError):  # the worker is gone; the supervisor notices and restarts it
            logger.debug("stream worker %s did not take a message", self.pid)

    async def stop(self) -> None:
        """Ask (None on the inbox), then SIGTERM, then SIGKILL."""
        await self.end(lambda: self.send(None), STOP_GRACE_S, STOP_GRACE_S)
        self._inbox.close()
