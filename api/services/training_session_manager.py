"""Training sessions: validation, the persistent priority queue, the scheduler, stop/resume, crash recovery."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api.errors import Conflict, InvalidTransition, NotFound, ValidationFailed
from api.models.datasets import DatasetRead
from api.models.evaluations import EvaluationCreate, EvaluationRead
from api.models.sessions import QueueRead, SessionCreate, SessionRead, SessionStatus
from api.services.dataset_registry import DatasetRegistry
from api.services.evaluation_store import EvaluationStore
from api.services.events import EventBus
from api.services.log_store import LogStore
from api.services.metrics_store import MetricsStore
from api.services.model_registry import ModelRegistry
from api.services.periodic import every
from api.services.run_workspace import prepare_run_dir
from api.services.session_run import SessionRun
from api.services.session_store import SessionStore
from api.services.training_executor import TrainingProcess, describe_exit

logger = logging.getLogger(__name__)

ERROR_TAIL_LINES = 30
_S = SessionStatus


def default_imgsz(dataset: DatasetRead) -> int:
    """The dataset's largest image side, rounded up to a multiple of 32, at most 640."""
    largest = max(dataset.info.image_size_max or [640])
    return int(min(640, max(32, math.ceil(largest / 32) * 32)))


class SessionManager:
    def __init__(
        self,
        *,
        store: SessionStore,
        metrics: MetricsStore,
        logs: LogStore,
        bus: EventBus,
        datasets: DatasetRegistry,
        models: ModelRegistry,
        runs_root: Path,
        config_dir: Path,
        max_concurrent: int,
        stop_grace_s: float,
        auto_resume: bool,
        gpu_count: Callable[[], int],
        evaluations: EvaluationStore,
        process_factory: Callable[[dict[str, Any]], TrainingProcess] = TrainingProcess,
        child_nice: int = 0,
    ) -> None:
        self.evaluations = evaluations
        self.store, self.metrics, self.logs, self.bus = store, metrics, logs, bus
        self.datasets, self.models = datasets, models
        self.runs_root, self.config_dir = runs_root, config_dir
        self.max_concurrent = max_concurrent
        self.stop_grace_s = stop_grace_s
        self.auto_resume = auto_resume
        self.gpu_count = gpu_count
        self.process_factory, self.child_nice = process_factory, child_nice
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
            await self.store.transition(session_id, _S.running, _S.interrupted, ended_at=time.time())
            logger.warning("session %d was running when the server stopped: interrupted", session_id)
            if self.auto_resume:
                await self.store.transition(session_id, _S.interrupted, _S.queued, ended_at=None)
                logger.info("session %d queued again to resume from its last checkpoint", session_id)

    async def shutdown(self) -> None:
        """Kill the children but leave their sessions `running`: the next start resumes them like after a crash."""
        self._shutting_down = True
        for task in self._tasks:
            task.cancel()
        for run in list(self._runs.values()):
            run.process.kill()
        if self._supervisors:
            # Stop ladders may still be waiting out a grace period: the kill above made them moot.
            done, pending = await asyncio.wait(self._supervisors, timeout=10)
            for task in pending:
                task.cancel()
        await self.flush()

    async def flush(self) -> None:
        await self.metrics.flush()
        await self.logs.flush()

    # --- API operations ------------------------------------------------------------------------------

    async def create(self, body: SessionCreate, *, created_by: int | None, on_behalf_of: str | None) -> SessionRead:
        dataset = await self._dataset_field(body.dataset)
        if dataset.task != body.task:
            raise ValidationFailed.for_field("body.dataset", f"dataset {dataset.id} is a {dataset.task} dataset, not {body.task}")
        model_path, architecture, base_model_id = await self._resolve_model(body)
        self._check_device(body.device)
        config = {
            "model": model_path, "architecture": architecture, "epochs": body.epochs,
            "batch": body.batch or 16, "imgsz": body.imgsz or default_imgsz(dataset), "device": body.device,
            "lr0": body.lr0, "patience": body.patience, "seed": body.seed,
        }
        session_id = await self.store.insert(
            name=body.name or f"{architecture}-{dataset.name}", task=body.task, model=str(body.model),
            base_model_id=base_model_id, dataset_id=dataset.id, config=config, priority=body.priority,
            status=_S.queued.value, created_at=time.time(), epochs=body.epochs, created_by=created_by,
            on_behalf_of=on_behalf_of,
        )
        session = await self._announce(session_id)
        self._wake.set()
        return session

    async def create_evaluation(self, model_id: int, body: EvaluationCreate, *, created_by: int | None,
                                on_behalf_of: str | None) -> EvaluationRead:
        """Queue a validation run of a registered model; it waits for a slot like a training session."""
        model = await self.models.get(model_id)
        dataset = await self._dataset_field(body.dataset)
        if dataset.task != model.task:
            raise ValidationFailed.for_field("body.dataset", f"dataset {dataset.id} is {dataset.task}, "
                                                             f"model {model.id} is {model.task}")
        if body.split not in dataset.info.images:
            raise ValidationFailed.for_field("body.split", f"dataset {dataset.id} has no {body.split} split")
        self._check_device(body.device)
        imgsz = body.imgsz or default_imgsz(dataset)
        config = {"model": str(self.models.path_of(model.id).resolve()), "architecture": model.architecture,
                  "epochs": 1, "batch": body.batch, "imgsz": imgsz, "device": body.device, "split": body.split,
                  "conf": body.conf, "iou": body.iou}
        session_id = await self.store.insert(
            name=f"evaluate model {model.id} on {dataset.name}/{body.split}", task=model.task, kind="evaluate",
            model=str(model.id), base_model_id=model.id, dataset_id=dataset.id, config=config,
            priority=body.priority, status=_S.queued.value, created_at=time.time(), epochs=1,
            created_by=created_by, on_behalf_of=on_behalf_of,
        )
        evaluation_id = await self.evaluations.insert(
            session_id=session_id, model_id=model.id, dataset_id=dataset.id, split=body.split, conf=body.conf,
            iou=body.iou, imgsz=imgsz, created_by=created_by)
        await self._announce(session_id)
        self._wake.set()
        return await self.evaluations.get(evaluation_id)

    async def get(self, session_id: int) -> SessionRead:
        return await self.store.get(session_id)

    async def list(self, *, statuses: list[SessionStatus] | None, limit: int, offset: int) -> tuple[list[SessionRead], int]:
        return await self.store.list(statuses=statuses, limit=limit, offset=offset)

    async def queue(self) -> QueueRead:
        running, _ = await self.store.list(statuses=[_S.running], limit=1000, offset=0)
        queued = [await self.store.get(row["id"]) for row in await self.store.queued_in_order()]
        return QueueRead(running=running, queued=queued, max_concurrent=self.max_concurrent)

    async def stop(self, session_id: int) -> SessionRead:
        """Queued: cancelled at once. Running: asks the trainer to stop, then terminates after the grace period."""
        row = await self.store.row(session_id)
        status = _S(row["status"])
        if status == _S.queued and await self.store.transition(session_id, _S.queued, _S.cancelled,
                                                               ended_at=time.time()):
            return await self._announce(session_id)
        run = self._runs.get(session_id)
        if status == _S.running and run is not None:
            if not run.stop_requested:
                run.stop_requested = True
                await self.store.update(session_id, stop_requested=1)
                self._spawn(run.process.stop(self.stop_grace_s))
            return await self._announce(session_id)
        raise InvalidTransition(f"Session {session_id} is {status.value}; only queued or running sessions stop.",
                                details={"status": status.value})

    async def resume(self, session_id: int) -> SessionRead:
        row = await self.store.row(session_id)
        if not await self.store.transition(session_id, (_S.interrupted, _S.stopped), _S.queued, ended_at=None,
                                           stop_requested=0, error=None, error_tail=None):
            raise InvalidTransition(
                f"Session {session_id} is {row['status']}; only interrupted or stopped sessions resume.",
                details={"status": row["status"]},
            )
        self._wake.set()
        return await self._announce(session_id)

    async def set_priority(self, session_id: int, priority: int) -> SessionRead:
        await self.store.row(session_id)
        await self.store.update(session_id, priority=priority)
        self._wake.set()
        return await self._announce(session_id)

    async def delete(self, session_id: int) -> None:
        row = await self.store.row(session_id)
        if row["status"] == _S.running:
            raise Conflict(f"Session {session_id} is running; stop it first.", code="session_running")
        await self.store.delete(session_id)
        await asyncio.to_thread(shutil.rmtree, self.runs_root / str(session_id), True)
        self.bus.publish("session.deleted", {"session_id": session_id})

    def is_running(self, session_id: int) -> bool:
        return session_id in self._runs

    # --- scheduling ----------------------------------------------------------------------------------

    async def _schedule_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=2.0)
            self._wake.clear()
            try:
                await self._start_ready()
            except Exception:
                logger.exception("scheduler pass failed")

    async def _start_ready(self) -> None:
        for row in await self.store.queued_in_order():
            if len(self._runs) >= self.max_concurrent or self._shutting_down:
                return
            device = self._pick_device(row)
            if device is not None:
                await self._launch(row, device)

    def _pick_device(self, row: dict[str, Any]) -> str | None:
        """A device for this session now, or None to keep it waiting (its GPU is busy)."""

        requested = json.loads(row["config"])["device"]
        if requested == "cpu":
            return "cpu"
        busy = {index for run in self._runs.values() for index in run.device.split(",") if run.device != "cpu"}
        if requested == "auto":
            gpus = self.gpu_count()
            if gpus == 0:
                return "cpu"
            free = [str(index) for index in range(gpus) if str(index) not in busy]
            return free[0] if free else None
        return requested if not busy.intersection(requested.split(",")) else None

    async def _launch(self, row: dict[str, Any], device: str) -> None:
        session_id = row["id"]
        if not await self.store.transition(session_id, _S.queued, _S.running, started_at=time.time(), device=device,
                                           attempts=row["attempts"] + 1, stop_requested=0):
            return  # someone else changed it (cancelled meanwhile): nothing starts twice
        row = await self.store.row(session_id)
        try:
            process = self.process_factory(await self._child_config(row, device))
            await process.start()
        except Exception as exc:
            logger.exception("session %d could not start", session_id)
            await self._finish_failed(row, f"could not start training: {exc}")
            return
        run = SessionRun(row=row, process=process, store=self.store, metrics=self.metrics, logs=self.logs,
                         bus=self.bus)
        self._runs[session_id] = run
        self._spawn(self._supervise(run))
        await self._announce(session_id)
        logger.info("session %d started on %s (pid %s)", session_id, device, process.pid)

    async def _child_config(self, row: dict[str, Any], device: str) -> dict[str, Any]:

        config = json.loads(row["config"])
        dataset = await self.datasets.get(row["dataset_id"])
        run_dir = self.runs_root / str(row["id"])
        data = await asyncio.to_thread(prepare_run_dir, run_dir, dataset_dir=self.datasets.path_of(dataset),
                                       task=dataset.task, classes=dataset.classes)
        checkpoint = row["checkpoint"]
        resume = checkpoint if checkpoint and Path(checkpoint).is_file() else None
        return {**config, "session_id": row["id"], "task": row["task"], "kind": row["kind"], "data": data,
                "device": device, "nice": self.child_nice,
                "run_dir": str(run_dir), "config_dir": str(self.config_dir), "resume": resume}

    async def _supervise(self, run: SessionRun) -> None:
        try:
            await run.consume()
        except Exception:
            logger.exception("session %d: reading the training process failed", run.session_id)
            run.process.kill()
        finally:
            self._runs.pop(run.session_id, None)
            if not self._shutting_down:
                await self._settle(run)
                self._wake.set()

    async def _settle(self, run: SessionRun) -> None:
        """The child is gone: decide completed / stopped / failed from what it said and how it ended."""
        await self.flush()
        row = await self.store.row(run.session_id)
        now = time.time()
        common = {"ended_at": now, "run_seconds": row["run_seconds"] + now - (row["started_at"] or now)}
        result = run.result
        if result is not None and row["kind"] == "evaluate":
            await self.evaluations.save_results(run.session_id, metrics=result["metrics"],
                                                per_class=result["per_class"])
            await self.store.transition(run.session_id, _S.running, _S.completed, **common)
        elif result is not None and not result["stopped"] and not run.stop_requested:
            model_id = await self._register_model(row, run)
            await self.store.transition(run.session_id, _S.running, _S.completed, result_model_id=model_id,
                                        best_metrics=self._final_metrics(row, run), **common)
        elif run.stop_requested or (result is not None and result["stopped"]):
            await self.store.transition(run.session_id, _S.running, _S.stopped, **common)
        else:
            reason = run.error["message"] if run.error else describe_exit(run.process.exitcode)
            await self._finish_failed(row, reason, **common)
            return
        await self._announce(run.session_id)

    async def _finish_failed(self, row: dict[str, Any], reason: str, **values: Any) -> None:
        await self.flush()
        tail = await self.logs.tail(row["id"], ERROR_TAIL_LINES)
        values.setdefault("ended_at", time.time())
        await self.store.transition(row["id"], _S.running, _S.failed, error=reason, error_tail=tail, **values)
        logger.warning("session %d failed: %s", row["id"], reason)
        await self._announce(row["id"])

    @staticmethod
    def _final_metrics(row: dict[str, Any], run: SessionRun) -> dict[str, float]:

        best = json.loads(row["best_metrics"])
        return {**best, **(run.final_metrics or {})}

    async def _register_model(self, row: dict[str, Any], run: SessionRun) -> int | None:

        assert run.result is not None
        names = run.result["names"]
        try:
            model = await self.models.register_trained(
                weights=Path(run.result["best"]), name=row["name"], task=row["task"],
                architecture=json.loads(row["config"])["architecture"],
                classes=[names[key] for key in sorted(names)], metrics=self._final_metrics(row, run),
                session_id=row["id"], created_by=row["created_by"],
            )
        except Exception:
            logger.exception("session %d: registering its model failed", row["id"])
            return None
        self.bus.publish("model.registered", {"model_id": model.id, "session_id": row["id"]})
        return model.id

    async def _dataset_field(self, dataset_id: int) -> DatasetRead:
        """The dataset a request body names; an unknown id is a 422 on that field, not a 404."""
        try:
            return await self.datasets.get(dataset_id)
        except NotFound:
            raise ValidationFailed.for_field("body.dataset", f"dataset {dataset_id} does not exist") from None

    async def _resolve_model(self, body: SessionCreate) -> tuple[str, str, int | None]:
        """(what the trainer loads, architecture name, base model id) for the `model` field."""
        if isinstance(body.model, str):
            is_cls = body.model.endswith("-cls.yaml")
            if is_cls != (body.task == "classify"):
                raise ValidationFailed.for_field("body.model", f"{body.model} is not a {body.task} architecture")
            return body.model, body.model.removesuffix(".yaml"), None
        try:
            base = await self.models.get(body.model)
        except NotFound:
            raise ValidationFailed.for_field("body.model", f"model {body.model} does not exist") from None
        if base.task != body.task:
            raise ValidationFailed.for_field("body.model", f"model {base.id} is a {base.task} model, not {body.task}")
        return str(self.models.path_of(base.id).resolve()), base.architecture, base.id

    def _check_device(self, device: str) -> None:
        if device in ("auto", "cpu"):
            return
        gpus = self.gpu_count()
        missing = [index for index in device.split(",") if int(index) >= gpus]
        if missing:
            raise ValidationFailed.for_field("body.device", f"no GPU {','.join(missing)} on this server ({gpus} GPUs found)")

    async def _announce(self, session_id: int) -> SessionRead:
        session = await self.store.get(session_id)
        self.bus.publish("session.status", session.model_dump(mode="json"))
        return session

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._supervisors.add(task)
        task.add_done_callback(self._supervisors.discard)
