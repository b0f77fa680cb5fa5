"""Capture: a thread reads the source as fast as it sends and keeps only the newest frames.

A model slower than the camera must never make the output lag further and further behind live, so the buffer
between capture and inference holds at most `capacity` frames and a new frame pushes out the oldest (counted as
dropped). A source that fails is reopened with exponential backoff and jitter (tenacity), 1 s .. 60 s; a recorded
video loops at its own frame rate, as a camera would."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from tenacity import RetryError, Retrying, retry_if_exception_type, wait_exponential_jitter

from api.streams.worker.contract import SourceSpec

logger = logging.getLogger(__name__)

OPEN_TIMEOUT_MS = 5000
READ_TIMEOUT_MS = 5000
BACKOFF_MIN_S, BACKOFF_MAX_S = 1.0, 60.0


@dataclass(frozen=True, slots=True)
class Frame:
    image: np.ndarray
    number: int
    captured_at: float  # time.time(), for latency behind live
    captured_mono: float  # time.perf_counter()


class NewestFrames:
    """A bounded hand-over from the capture thread to the pipeline that drops the oldest frame, never blocks."""

    def __init__(self, capacity: int = 1) -> None:
        self._frames: deque[Frame] = deque(maxlen=capacity)
        self._ready = threading.Condition()
        self.dropped = 0

    def put(self, frame: Frame) -> None:
        with self._ready:
            if len(self._frames) == self._frames.maxlen:
                self.dropped += 1
            self._frames.append(frame)
            self._ready.notify()

    def get(self, timeout: float) -> Frame | None:
        with self._ready:
            if not self._frames:
                self._ready.wait(timeout)
            return self._frames.popleft() if self._frames else None

    def clear(self) -> None:
        with self._ready:
            self._frames.clear()

    def __len__(self) -> int:
        return len(self._frames)


class SourceFailed(Exception):
    """The source could not be opened or stopped sending; the message is the reason users see."""


def open_source(source: SourceSpec) -> Any:
    if source.kind == "device":
        capture = cv2.VideoCapture(int(source.target))
    else:
        capture = cv2.VideoCapture(source.target, cv2.CAP_FFMPEG, [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, OPEN_TIMEOUT_MS, cv2.CAP_PROP_READ_TIMEOUT_MSEC, READ_TIMEOUT_MS])
    if not capture.isOpened():
        capture.release()
        raise SourceFailed(f"cannot open {source.label}")
    return capture


class Capture:
    """Runs on its own thread until stop(); reports status changes through `on_status(status, reason)`."""

    def __init__(self, source: SourceSpec, frames: NewestFrames, on_status: Callable[[str, str | None], None],
                 period_frames: int = 1) -> None:
        self.source = source
        self.period_frames = period_frames  # read live: every n-th frame goes on
        self._frames, self._on_status = frames, on_status
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="capture")
        self.frames_in = 0  # frames read from the source
        self.reconnects = 0
        self.last_error: str | None = None
        self.size: tuple[int, int] | None = None

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = READ_TIMEOUT_MS / 1000 + 1) -> None:
        self._stop.set()
        self._thread.join(timeout)

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def _run(self) -> None:
        first = True
        while not self._stop.is_set():
            capture = self._open_with_backoff(first)
            if capture is None:
                return
            first = False
            try:
                reason = self._read(capture)
            finally:
                capture.release()
            if reason is None:  # stopped
                return
            self.reconnects += 1
            self._failed(reason)

    def _failed(self, reason: str) -> None:
        self.last_error = reason
        logger.warning("stream source %s: %s; reconnecting", self.source.label, reason)
        self._on_status("reconnecting", reason)

    def _open_with_backoff(self, first: bool) -> Any | None:
        def note(state: Any) -> None:
            self._failed(str(state.outcome.exception()))

        retrying = Retrying(
            retry=retry_if_exception_type(SourceFailed), wait=wait_exponential_jitter(BACKOFF_MIN_S, BACKOFF_MAX_S, jitter=1),
            stop=lambda _state: self._stop.is_set(), sleep=self._stop.wait, before_sleep=note, reraise=False)
        try:
            return retrying(open_source, self.source)
        except (RetryError, SourceFailed):
            return None

    def _read(self, capture: Any) -> str | None:
        """Reads until the source fails (returns why) or stop() (returns None)."""
        looping = self.source.kind == "video"
        fps = capture.get(cv2.CAP_PROP_FPS) if looping else 0.0
        interval = 1.0 / fps if fps and fps > 0 else 0.0
        next_due = time.perf_counter()
        running = False
        number = 0
        while not self._stop.is_set():
            ok, image = capture.read()
            if not ok and looping and running:  # the end of a recorded video: start it again
                capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, image = capture.read()
            if not ok or image is None:
                return "the source stopped sending frames" if running else f"{self.source.label} sends no frames"
            if not running:
                running = True
                self.size = (image.shape[1], image.shape[0])
                self._on_status("running", None)
            if interval:  # a recorded video plays at its own rate, as a camera would
                next_due += interval
                delay = next_due - time.perf_counter()
                if delay > 0:
                    self._stop.wait(delay)
                else:
                    next_due = time.perf_counter()  # behind (slow decode): do not try to catch up in a burst
            self.frames_in += 1
            number += 1
            if number % max(1, self.period_frames) == 0:
                self._frames.put(Frame(image, number, time.time(), time.perf_counter()))
        return None
