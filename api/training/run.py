"""What the server does with the messages of one running child: metrics, logs, row updates, events."""

from __future__ import annotations

import logging
import time
from typing import Any

from api.core.events import EventBus
from api.training.child.contract import (
    Batch,
    Checkpoint,
    Epoch,
    Evaluated,
    Failed,
    FinalMetrics,
    Log,
    Message,
    Result,
    Started,
)
from api.training.executors.base import RunHandle
from api.training.log_store import LogStore
from api.training.metrics_store import MetricsStore
from api.training.records import SessionRecord
from api.training.store import SessionStore

logger = logging.getLogger(__name__)

_VAL_PREFIXES = ("metrics/", "val/")


class SessionRun:
    """Turns child messages into stored state and events; remembers how the run ended (result or failure)."""

    def __init__(self, *, record: SessionRecord, handle: RunHandle, store: SessionStore, metrics: MetricsStore,
                 logs: LogStore, bus: EventBus, progress_interval_s: float = 1.0) -> None:
        self.session_id = record.id
        self.record = record
        self.handle = handle
        self.device: str = record.device or "cpu"
        self._store, self._metrics, self._logs, self._bus = store, metrics, logs, bus
        self._progress_interval_s = progress_interval_s
        self._last_progress = 0.0
        self.batches = record.batches
        self.best_fitness = record.best_fitness
        self.result: Result | Evaluated | None = None
        self.failure: Failed | None = None
        self.final_metrics: dict[str, float] | None = None
        self.stop_requested = record.stop_requested

    async def consume(self) -> None:
        async for message in self.handle.messages():
            await self.handle_message(message)

    async def handle_message(self, message: Message) -> None:
        match message:
            case Log():
                self._on_log(message)
            case Started():
                await self._on_started(message)
            case Batch():
                await self._on_batch(message)
            case Epoch():
                await self._on_epoch(message)
            case Checkpoint(path=path):
                await self._store.update(self.session_id, checkpoint=path)
            case FinalMetrics(metrics=metrics):
                self.final_metrics = metrics
            case Result() | Evaluated():
                self.result = message
            case Failed():
                self._on_failed(message)
            case _:  # a child of another version, or a bug: say so loudly, never drop it silently
                logger.error("session %d: unknown message from the child: %r", self.session_id, message)

    def _on_log(self, message: Log) -> None:
        self._logs.append(session_id=self.session_id, ts=message.ts, level=message.level, message=message.message)
        self._bus.publish("log.line", {"session_id": self.session_id, "level": message.level,
                                       "message": message.message})

    async def _on_started(self, message: Started) -> None:
        self.batches = message.batches
        await self._store.update(self.session_id, batches=self.batches, epochs=message.epochs,
                                 epoch=message.start_epoch, batch_index=0)
        self._bus.publish("session.started", {"session_id": self.session_id, "device": self.device,
                                              "epochs": message.epochs, "start_epoch": message.start_epoch})

    async def _on_batch(self, message: Batch) -> None:
        step = (message.epoch - 1) * message.batches + message.batch
        self._metrics.add_batch(session_id=self.session_id, epoch=message.epoch, step=step, values=message.losses)
        now = time.monotonic()
        if now - self._last_progress >= self._progress_interval_s:
            self._last_progress = now
            await self._store.update(self.session_id, batch_index=message.batch, batches=message.batches)
            self._bus.publish("session.progress", {"session_id": self.session_id, "epoch": message.epoch,
                                                   "batch": message.batch, "batches": message.batches,
                                                   "losses": message.losses})

    async def _on_epoch(self, message: Epoch) -> None:
        epoch, values = message.epoch, message.metrics
        self._metrics.add_epoch(session_id=self.session_id, epoch=epoch, values=values)
        updates: dict[str, Any] = {"epoch": epoch, "batch_index": 0, "latest_metrics": values}
        fitness = message.fitness
        if fitness is not None and (self.best_fitness is None or fitness >= self.best_fitness):
            self.best_fitness = fitness
            best = {k: v for k, v in values.items() if k.startswith(_VAL_PREFIXES)}
            updates.update(best_fitness=fitness, best_metrics={**best, "epoch": epoch})
        await self._store.update(self.session_id, **updates)
        self._bus.publish("session.epoch", {"session_id": self.session_id, "epoch": epoch,
                                            "epochs": message.epochs, "metrics": values})

    def _on_failed(self, message: Failed) -> None:
        self.failure = message
        for line in message.traceback.splitlines():
            self._logs.append(session_id=self.session_id, ts=message.ts, level="ERROR", message=line)
