"""The scheduler owns the running sessions: the queue loop, device choice, launch through an Executor,
supervision, and settling each run (completed / stopped / failed, the trained model registered)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from api.core.errors import Conflict
from api.core.events import EventBus
from api.core.periodic import every
from api.recognition.evaluation_store import EvaluationStore
from api.registry.models.service import ModelRegistry
from api.training.child.contract import Evaluated, Message, Result
from api.training.executors.base import Executor
from api.training.log_store import LogStore
from api.training.metrics_store import MetricsStore
from api.training.records import SessionRecord
from api.training.run import SessionRun
from api.training.schemas import SessionRead, SessionStatus
from api.training.specs import SpecBuilder
from api.training.store import SessionStore

logger = logging.getLogger(__name__)

ERROR_TAIL_LINES = 30
_S = SessionStatus


class Scheduler:
    def __init__(self, *, store: SessionStore, metrics: MetricsStore, logs: LogStore, bus: EventBus,
                 models: ModelRegistry, evaluations: EvaluationStore, specs: SpecBuilder, executor: Executor,
                 max_concurrent: int, stop_grace_s: float, auto_resume: bool, gpu_count: Callable[[], int]) -> None:
        self.store, self.metrics, self.logs, self.bus = store, metrics, logs, bus
        self.models, self.evaluations, self.specs, self.executor = models, evaluations, specs, executor
        self.max_concurrent, self.stop_grace_s, self.auto_resume = max_concurrent, stop_grace_s, auto_resume
        self.gpu_count = gpu_count
        self._runs: dict[int, SessionRun] = {}
        self._supervisors: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._shutting_down = False

    # --- lifecycle -----------------------------------------------------------------------------------

    async def start(self) -> None:
        await self.recover()
        self._tasks = [asyncio.create_task(self._schedule_loop(), name="scheduler"),
                       asyncio.create_task(every(0.25, self.flush, "flushing metrics and logs"), name="metrics-flush")]
        self._wake.set()

    async def recover(self) -> None:
        """Sessions a dead server left `running` become `interrupted`, then queued again with AUTO_RESUME."""
        for session_id in await self.store.ids_in(_S.running):
            await self.store.transition(session_id, _S.interrupted, ended_at=time.time())
            logger.warning("session %d was running when the server stopped: interrupted", session_id)
            if self.auto_resume:
                await self.store.transition(session_id, _S.queued, ended_at=None)
                logger.info("session %d queued again to resume from its last checkpoint", session_id)

    async def shutdown(self) -> None:
        """Kill the children but leave their sessions `running`: the next start resumes them like after a crash."""
        self._shutting_down = True
        for task in self._tasks:
            task.cancel()
        for run in list(self._runs.values()):
            run.handle.kill()
        if self._supervisors:
            # Stop ladders may still be waiting out a grace period: the kill above made them moot.
            _done, pending = await asyncio.wait(self._supervisors, timeout=10)
            for task in pending:
                task.cancel()
        await self.executor.close()
        await self.flush()

    async def flush(self) -> None:
        await self.metrics.flush()
        await self.logs.flush()

    def wake(self) -> None:
        self._wake.set()

    # --- requests about running sessions -------------------------------------------------------------

    async def request_stop(self, session_id: int) -> bool:
        """Ask a running session's child to stop (then terminate, then kill); False when it is not ours."""
        run = self._runs.get(session_id)
        if run is None:
            return False
        if not run.stop_requested:
            run.stop_requested = True
            await self.store.update(session_id, stop_requested=1)
            self._spawn(run.handle.stop(self.stop_grace_s))
        return True

    async def deliver(self, session_id: int, message: Message) -> None:
        """A message of a run that reports over HTTP (a cluster worker): handled as if its child had sent it."""
        run = self._runs.get(session_id)
        if run is None:
            raise Conflict(f"Session {session_id} is not running here.", code="run_superseded")
        await run.handle_message(message)

    async def announce(self, session_id: int) -> SessionRead:
        session = await self.store.get(session_id)
        self.bus.publish("session.status", session.model_dump(mode="json"))
        return session

    # --- the queue -----------------------------------------------------------------------------------

    async def _schedule_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=2.0)
            self._wake.clear()
            try:
                await self._start_ready()
            except Exception:
                logger.exception("scheduler pass failed")

    def running_devices(self) -> list[str]:
        return [run.device for run in self._runs.values()]

    @property
    def limit(self) -> int:
        """Runs at once: MAX_CONCURRENT_SESSIONS here, the cluster's capacity with a cluster executor."""
        capacity = self.executor.capacity()
        return self.max_concurrent if capacity is None else capacity

    async def _start_ready(self) -> None:
        for record in await self.store.queued_in_order():
            if len(self._runs) >= self.limit or self._shutting_down:
                return
            device = self._pick_device(record)
            if device is not None:
                await self._launch(record, device)

    def _pick_device(self, record: SessionRecord) -> str | None:
        """A device for this session now, or None to keep it waiting (its GPU is busy)."""
        assert record.config is not None  # queued sessions are ours to run, never external
        requested = record.config.device
        if requested == "cpu" or self.executor.places_devices:
            return requested
        busy = {index for run in self._runs.values() for index in run.device.split(",") if run.device != "cpu"}
        if requested == "auto":
            gpus = self.gpu_count()
            if gpus == 0:
                return "cpu"
            free = [str(index) for index in range(gpus) if str(index) not in busy]
            return free[0] if free else None
        return requested if not busy.intersection(requested.split(",")) else None

    async def _launch(self, queued: SessionRecord, device: str) -> None:
        session_id = queued.id
        if not await self.store.transition(session_id, _S.running, started_at=time.time(), device=device,
                                           attempts=queued.attempts + 1, stop_requested=0):
            return  # someone else changed it (cancelled meanwhile): nothing starts twice
        record = await self.store.record(session_id)
        try:
            handle = self.executor.launch(await self.specs.build(record, device))
            await handle.start()
        except Exception as exc:
            logger.exception("session %d could not start", session_id)
            await self._finish_failed(session_id, f"could not start training: {exc}")
            return
        run = SessionRun(record=record, handle=handle, store=self.store, metrics=self.metrics, logs=self.logs,
                         bus=self.bus)
        self._runs[session_id] = run
        self._spawn(self._supervise(run))
        if (await self.store.record(session_id)).stop_requested:  # a stop that came while the child was starting
            run.stop_requested = False
            await self.request_stop(session_id)
        await self.announce(session_id)
        logger.info("session %d started on %s (pid %s)", session_id, device, handle.pid)

    async def _supervise(self, run: SessionRun) -> None:
        try:
            await run.consume()
        except Exception:
            logger.exception("session %d: reading the training process failed", run.session_id)
            run.handle.kill()
        finally:
            self._runs.pop(run.session_id, None)
            if not self._shutting_down:
                await self._settle(run)
                self._wake.set()

    # --- settling ------------------------------------------------------------------------------------

    async def _settle(self, run: SessionRun) -> None:
        """The child is gone: decide completed / stopped / failed from what it said and how it ended."""
        await self.flush()
        record = await self.store.record(run.session_id)
        now = time.time()
        common = {"ended_at": now, "run_seconds": record.run_seconds + now - (record.started_at or now)}
        result = run.result
        if isinstance(result, Evaluated):
            await self.evaluations.save_results(run.session_id, metrics=result.metrics, per_class=result.per_class)
            await self.store.transition(run.session_id, _S.completed, **common)
        elif isinstance(result, Result) and not result.stopped and not run.stop_requested:
            metrics = {**record.best_metrics, **(run.final_metrics or {})}
            model_id = await self._register_model(record, result, metrics)
            await self.store.transition(run.session_id, _S.completed, result_model_id=model_id,
                                        best_metrics=metrics, **common)
        elif run.stop_requested or (isinstance(result, Result) and result.stopped):
            await self.store.transition(run.session_id, _S.stopped, **common)
        elif run.handle.lost:  # its node died: resume from the last checkpoint it uploaded, wherever there is room
            await self.store.transition(run.session_id, _S.interrupted, **common)
            logger.warning("session %d: %s; interrupted", run.session_id, run.handle.describe_exit())
            if self.auto_resume:
                await self.store.transition(run.session_id, _S.queued, ended_at=None)
                self._wake.set()
        else:
            reason = run.failure.message if run.failure else run.handle.describe_exit()
            await self._finish_failed(run.session_id, reason, **common)
            return
        await self.announce(run.session_id)

    async def _finish_failed(self, session_id: int, reason: str, **values: Any) -> None:
        await self.flush()
        tail = await self.logs.tail(session_id, ERROR_TAIL_LINES)
        values.setdefault("ended_at", time.time())
        await self.store.transition(session_id, _S.failed, error=reason, error_tail=tail, **values)
        logger.warning("session %d failed: %s", session_id, reason)
        await self.announce(session_id)

    async def _register_model(self, record: SessionRecord, result: Result, metrics: dict[str, float]) -> int | None:
        try:
            model = await self.models.register_trained(weights=Path(result.best), name=record.name, metrics=metrics,
                                                       session_id=record.id, created_by=record.created_by)
        except Exception:
            logger.exception("session %d: registering its model failed", record.id)
            return None
        self.bus.publish("model.registered", {"model_id": model.id, "session_id": record.id})
        return model.id

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._supervisors.add(task)
        task.add_done_callback(self._supervisors.discard)
