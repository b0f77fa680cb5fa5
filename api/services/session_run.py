"""What the server does with the messages of one running training child."""

from __future__ import annotations

import json
import time
from typing import Any

from api.services.events import EventBus
from api.services.log_store import LogStore
from api.services.metrics_store import MetricsStore
from api.services.session_store import SessionStore
from api.services.training_executor import TrainingProcess

_VAL_PREFIXES = ("metrics/", "val/")


class SessionRun:
    """Turns child messages into metrics, logs, session row updates and events; remembers the outcome."""

    def __init__(
        self,
        *,
        row: dict[str, Any],
        process: TrainingProcess,
        store: SessionStore,
        metrics: MetricsStore,
        logs: LogStore,
        bus: EventBus,
        progress_interval_s: float = 1.0,
    ) -> None:
        self.session_id: int = row["id"]
        self.row = row
        self.process = process
        self.device: str = row["device"] or "cpu"
        self._store, self._metrics, self._logs, self._bus = store, metrics, logs, bus
        self._progress_interval_s = progress_interval_s
        self._last_progress = 0.0
        self.batches = row["batches"]
        self.best_fitness: float | None = row["best_fitness"]
        self.result: dict[str, Any] | None = None
        self.error: dict[str, Any] | None = None
        self.final_metrics: dict[str, float] | None = None
        self.last_epoch_metrics: dict[str, float] = json.loads(row["latest_metrics"])
        self.stop_requested = bool(row["stop_requested"])

    async def consume(self) -> None:
        async for message in self.process.messages():
            handler = getattr(self, f"_on_{message.get('type')}", None)
            if handler is not None:
                await handler(message)

    async def _on_log(self, message: dict[str, Any]) -> None:
        self._logs.append(session_id=self.session_id, ts=message["ts"], level=message["level"],
                          message=message["message"])
        self._bus.publish("log.line", {"session_id": self.session_id, "level": message["level"],
                                       "message": message["message"]})

    async def _on_started(self, message: dict[str, Any]) -> None:
        self.batches = message["batches"]
        await self._store.update(self.session_id, batches=self.batches, epochs=message["epochs"],
                                 epoch=message["start_epoch"], batch_index=0)
        self._bus.publish("session.started", {"session_id": self.session_id, "device": self.device,
                                              "epochs": message["epochs"], "start_epoch": message["start_epoch"]})

    async def _on_batch(self, message: dict[str, Any]) -> None:
        epoch, batch = message["epoch"], message["batch"]
        step = (epoch - 1) * message["batches"] + batch
        self._metrics.add_batch(session_id=self.session_id, epoch=epoch, step=step, values=message["losses"])
        now = time.monotonic()
        if now - self._last_progress >= self._progress_interval_s:
            self._last_progress = now
            await self._store.update(self.session_id, batch_index=batch, batches=message["batches"])
            self._bus.publish("session.progress", {"session_id": self.session_id, "epoch": epoch, "batch": batch,
                                                   "batches": message["batches"], "losses": message["losses"]})

    async def _on_epoch(self, message: dict[str, Any]) -> None:
        epoch, values = message["epoch"], message["metrics"]
        self._metrics.add_epoch(session_id=self.session_id, epoch=epoch, values=values)
        self.last_epoch_metrics = values
        updates: dict[str, Any] = {"epoch": epoch, "batch_index": 0, "latest_metrics": values}
        fitness = message.get("fitness")
        if fitness is not None and (self.best_fitness is None or fitness >= self.best_fitness):
            self.best_fitness = fitness
            best = {k: v for k, v in values.items() if k.startswith(_VAL_PREFIXES)}
            updates.update(best_fitness=fitness, best_metrics={**best, "epoch": epoch})
        await self._store.update(self.session_id, **updates)
        self._bus.publish("session.epoch", {"session_id": self.session_id, "epoch": epoch,
                                            "epochs": message["epochs"], "metrics": values})

    async def _on_checkpoint(self, message: dict[str, Any]) -> None:
        await self._store.update(self.session_id, checkpoint=message["path"])

    async def _on_final_metrics(self, message: dict[str, Any]) -> None:
        self.final_metrics = message["metrics"]

    async def _on_result(self, message: dict[str, Any]) -> None:
        self.result = message

    async def _on_error(self, message: dict[str, Any]) -> None:
        self.error = message
        for line in message.get("traceback", "").splitlines():
            self._logs.append(session_id=self.session_id, ts=message["ts"], level="ERROR", message=line)
