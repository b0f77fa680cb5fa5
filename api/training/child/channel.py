"""Child -> server messages over a multiprocessing pipe: the dataclasses of contract.py."""

from __future__ import annotations

import io
import re
import threading
from typing import Any

from api.training.child.contract import Log, Message


class Channel:
    """Thread-safe sender; a broken pipe (server gone) is swallowed, the watchdog ends the process."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self._lock = threading.Lock()
        self.closed = False

    def send(self, message: Message) -> None:
        with self._lock:
            if self.closed:
                return
            try:
                self._connection.send(message)
            except (BrokenPipeError, OSError, EOFError):
                self.closed = True

    def log(self, message: str, level: str = "INFO") -> None:
        self.send(Log(level=level, message=message))


_LEVEL_WORDS = (("Traceback", "ERROR"), ("Error", "ERROR"), ("ERROR", "ERROR"), ("WARNING", "WARNING"), ("⚠️", "WARNING"))


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_PARTIAL_PROGRESS = re.compile(r"\b\d{1,2}% [━─╸]")  # a progress bar short of 100%: redrawn, not worth keeping


def clean_line(raw: str) -> str | None:
    """The text worth storing from one printed line, or None (blank line, intermediate progress redraw)."""
    line = _ANSI.sub("", raw.rsplit("\r", 1)[-1]).rstrip()
    if not line.strip() or _PARTIAL_PROGRESS.search(line):
        return None
    return line


def guess_level(line: str, default: str) -> str:
    for word, level in _LEVEL_WORDS:
        if word in line:
            return level
    return default


class LineStream(io.TextIOBase):
    """A stdout/stderr replacement: whole lines go to the channel; progress redraws (\\r) keep only the last."""

    def __init__(self, channel: Channel, default_level: str) -> None:
        self._channel = channel
        self._level = default_level
        self._buffer = ""
        self._lock = threading.Lock()

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        with self._lock:
            self._buffer += text
            *lines, self._buffer = self._buffer.split("\n")
        for raw in lines:
            self._emit(raw)
        return len(text)

    def _emit(self, raw: str) -> None:
        line = clean_line(raw)
        if line is not None:
            self._channel.log(line, guess_level(line, self._level))

    def flush(self) -> None:
        with self._lock:
            rest, self._buffer = self._buffer, ""
        self._emit(rest)
