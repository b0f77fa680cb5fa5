"""The worker's messages to the server go through a thread, so a busy server never stalls the pipeline.

Status changes and line crossings are kept (few, and each matters); per-frame tracks keep only the newest few and
previews only the newest one: a reader that falls behind loses old frames, as a live view should."""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any

from api.streams.worker.contract import FrameTracks, PreviewFrame

logger = logging.getLogger(__name__)


class Outbox:
    def __init__(self, connection: Any, frames_kept: int = 64) -> None:
        self._connection = connection
        self._important: deque[Any] = deque()
        self._frames: deque[FrameTracks] = deque(maxlen=frames_kept)
        self._preview: PreviewFrame | None = None
        self._wake = threading.Condition()
        self._closed = False
        self.dropped = 0
        self._thread = threading.Thread(target=self._run, daemon=True, name="outbox")
        self._thread.start()

    def send(self, message: Any) -> None:
        """Kept until sent (status, telemetry, crossings)."""
        with self._wake:
            self._important.append(message)
            self._wake.notify()

    def frame(self, message: FrameTracks) -> None:
        with self._wake:
            if len(self._frames) == self._frames.maxlen:
                self.dropped += 1
            self._frames.append(message)
            self._wake.notify()

    def preview(self, message: PreviewFrame) -> None:
        with self._wake:
            self._preview = message
            self._wake.notify()

    def _next(self) -> Any | None:
        with self._wake:
            while not (self._important or self._frames or self._preview) and not self._closed:
                self._wake.wait()
            if self._important:
                return self._important.popleft()
            if self._frames:
                return self._frames.popleft()
            preview, self._preview = self._preview, None
            return preview

    def _run(self) -> None:
        while (message := self._next()) is not None:
            try:
                self._connection.send(message)
            except (OSError, EOFError, ValueError):  # the server is gone: nothing left to report to
                return

    def close(self, timeout: float = 2.0) -> None:
        """Sends what is queued (bounded by `timeout`), then stops."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join(timeout)
