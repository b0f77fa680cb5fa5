"""Keeps one worker process per running stream alive, and what each last reported (status, telemetry, tracks).

A worker that dies (a crash, an OOM, kill -9) or goes silent (a hung decoder) is marked failed with the reason and
started again with exponential backoff and jitter; a worker that ran a minute without trouble starts over at 1 s.
Nothing a worker does reaches the event loop but its messages, read on a thread."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass, field
from typing import Any

from api.core.events import EventBus
from api.streams.process import StreamProcess
from api.streams.worker.contract import (
    FrameTracks,
    LineCrossed,
    PreviewFrame,
    SettingsRefused,
    StatusChanged,
    TelemetryReport,
    WorkerSpec,
)

logger = logging.getLogger(__name__)

RESTART_MIN_S, RESTART_MAX_S = 1.0, 60.0
HEALTHY_AFTER_S = 60.0  # ran this long: the next failure restarts after RESTART_MIN_S again
SILENT_LIMIT_S = 30.0  # no heartbeat this long (they come every second): the worker is hung
STARTUP_LIMIT_S = 120.0  # loading a large model on a slow CPU may take this long before the first heartbeat


@dataclass
class LiveState:
    """What the server knows of a stream right now; `stopped` when no worker runs it."""

    stream_id: int
    status: str = "stopped"
    telemetry: dict[str, Any] = field(default_factory=dict)
    last_error: str | None = None
    restarts: int = 0
    frame: FrameTracks | None = None
    preview: bytes | None = None
    preview_seq: int = 0
    preview_changed: asyncio.Event = field(default_factory=asyncio.Event)


class _Running:
    def __init__(self, spec: WorkerSpec) -> None:
        self.spec = spec
        self.process: StreamProcess | None = None
        self.stopping = asyncio.Event()
        self.task: asyncio.Task[None] | None = None


class StreamSupervisor:
    def __init__(self, bus: EventBus, *, silent_limit_s: float = SILENT_LIMIT_S) -> None:
        self._bus = bus
        self._silent_limit_s = silent_limit_s
        self._states: dict[int, LiveState] = {}
        self._running: dict[int, _Running] = {}

    def state(self, stream_id: int) -> LiveState:
        return self._states.get(stream_id) or LiveState(stream_id)

    def states(self) -> list[LiveState]:
        return list(self._states.values())

    def is_running(self, stream_id: int) -> bool:
        return stream_id in self._running

    def worker_pid(self, stream_id: int) -> int | None:
        running = self._running.get(stream_id)
        return running.process.pid if running and running.process else None

    async def start(self, spec: WorkerSpec) -> None:
        """Start a worker for the stream, or hand the running one its new settings."""
        running = self._running.get(spec.stream_id)
        if running is not None:
            await self.configure(spec)
            return
        state = self._states.setdefault(spec.stream_id, LiveState(spec.stream_id))
        state.restarts, state.last_error, state.telemetry = 0, None, {}
        running = self._running[spec.stream_id] = _Running(spec)
        self._set_status(state, "starting", None)
        running.task = asyncio.create_task(self._supervise(running, state), name=f"stream-{spec.stream_id}")

    async def configure(self, spec: WorkerSpec) -> None:
        running = self._running.get(spec.stream_id)
        if running is None:
            return
        running.spec = spec  # a restart after a crash uses the newest settings too
        if running.process is not None:
            running.process.send(spec)

    async def stop(self, stream_id: int) -> None:
        running = self._running.pop(stream_id, None)
        if running is None:
            return
        running.stopping.set()
        if running.process is not None:
            await running.process.stop()
        if running.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await running.task

    def forget(self, stream_id: int) -> None:
        self._states.pop(stream_id, None)

    async def shutdown(self) -> None:
        await asyncio.gather(*(self.stop(stream_id) for stream_id in list(self._running)), return_exceptions=True)

    # -- one stream -------------------------------------------------------------------------------------------------

    async def _supervise(self, running: _Running, state: LiveState) -> None:
        attempt = 0
        while not running.stopping.is_set():
            process = running.process = StreamProcess(running.spec)
            started = time.monotonic()
            try:
                await process.start()
            except Exception as exc:  # noqa: BLE001 - could not even spawn (no memory, too many processes)
                reason = f"the worker could not start: {type(exc).__name__}"
            else:
                reason = await self._follow(process, state)
            if running.stopping.is_set():
                break
            self._set_status(state, "failed", reason)
            logger.warning("stream %d: %s; restarting", state.stream_id, reason)
            attempt = 0 if time.monotonic() - started > HEALTHY_AFTER_S else attempt + 1
            delay = min(RESTART_MAX_S, RESTART_MIN_S * 2 ** max(0, attempt - 1)) * random.uniform(1.0, 1.25)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(running.stopping.wait(), min(RESTART_MAX_S, delay))
            if not running.stopping.is_set():
                state.restarts += 1
                self._set_status(state, "starting", None)
        running.process = None
        state.frame = None
        self._set_status(state, "stopped", None)

    async def _follow(self, process: StreamProcess, state: LiveState) -> str:
        """Handles the worker's messages until it exits; returns why it ended (for a crash or a hang)."""
        limit = STARTUP_LIMIT_S
        failure: str | None = None
        while True:
            try:
                message = await process.next_message(limit)
            except TimeoutError:
                process.kill()
                await process.wait_exit(5.0)
                return f"the worker sent nothing for {limit:.0f} s (hung) and was killed"
            if message is None:
                return failure or process.describe_exit()
            if isinstance(message, TelemetryReport):
                limit = self._silent_limit_s
                message.data["restarts"] = state.restarts
                state.telemetry = message.data
            elif isinstance(message, FrameTracks):
                state.frame = message
                self._bus.publish("stream.tracks", {"stream_id": state.stream_id, "frame": message.frame,
                                                    "ts": message.ts, "width": message.width, "height": message.height,
                                                    "tracks": message.tracks, "zone_counts": message.zone_counts,
                                                    "line_counts": message.line_counts})
            elif isinstance(message, PreviewFrame):
                state.preview, state.preview_seq = message.jpeg, state.preview_seq + 1
                state.preview_changed.set()
                state.preview_changed = asyncio.Event()
            elif isinstance(message, StatusChanged):
                if message.status == "failed":
                    failure = message.reason
                self._set_status(state, message.status, message.reason)
            elif isinstance(message, LineCrossed):
                self._bus.publish("stream.crossing", {"stream_id": state.stream_id, "line": message.line,
                                                      "track_id": message.track_id, "class_name": message.class_name,
                                                      "direction": message.direction, "slot": message.slot,
                                                      "frame": message.frame, "ts": message.ts})
            elif isinstance(message, SettingsRefused):
                state.last_error = message.reason
                self._bus.publish("stream.status", {"stream_id": state.stream_id, "status": state.status,
                                                    "reason": message.reason})

    def _set_status(self, state: LiveState, status: str, reason: str | None) -> None:
        if reason:
            state.last_error = reason
        if status == state.status and not reason:
            return
        state.status = status
        self._bus.publish("stream.status", {"stream_id": state.stream_id, "status": status, "reason": reason})
