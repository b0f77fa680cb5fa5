"""Training sessions as the API sees them: validate and queue requests, stop, resume, re-prioritise, delete.

Running sessions belong to the Scheduler; this module only asks it (wake, stop) and never touches a child."""

from __future__ import annotations

import asyncio
import math
import shutil
import time

from api.auth.schemas import ApiKeyRead
from api.auth.service import require_owner
from api.core.errors import Conflict, InvalidTransition, NotFound, TooManyRequests, ValidationFailed
from api.recognition.evaluation_schemas import EvaluationCreate, EvaluationRead
from api.recognition.evaluation_store import EvaluationStore
from api.registry.datasets.schemas import DatasetRead
from api.registry.datasets.service import DatasetRegistry
from api.registry.models.service import ModelRegistry
from api.training.records import SessionConfig
from api.training.scheduler import Scheduler
from api.training.schemas import QueueRead, SessionCreate, SessionRead, SessionStatus
from api.training.store import SessionStore

_S = SessionStatus


def default_imgsz(dataset: DatasetRead) -> int:
    """The dataset's largest image side, rounded up to a multiple of 32, at most 640."""
    largest = max(dataset.info.image_size_max or [640])
    return int(min(640, max(32, math.ceil(largest / 32) * 32)))


class SessionManager:
    def __init__(self, *, store: SessionStore, scheduler: Scheduler, datasets: DatasetRegistry,
                 models: ModelRegistry, evaluations: EvaluationStore, max_batch_pixels: float = 128e6,
                 max_queued_per_key: int = 100) -> None:
        self.store, self.scheduler = store, scheduler
        self.max_batch_pixels, self.max_queued_per_key = max_batch_pixels, max_queued_per_key
        self.datasets, self.models, self.evaluations = datasets, models, evaluations

    async def create(self, body: SessionCreate, *, created_by: int | None, on_behalf_of: str | None) -> SessionRead:
        dataset = await self._dataset_field(body.dataset)
        if dataset.task != body.task:
            raise ValidationFailed.for_field("body.dataset", f"dataset {dataset.id} is a {dataset.task} dataset, not {body.task}")
        model_path, architecture, base_model_id = await self._resolve_model(body)
        self._check_device(body.device)
        batch, imgsz = body.batch or 16, body.imgsz or default_imgsz(dataset)
        if batch * imgsz**2 > self.max_batch_pixels:  # 1024 x 2048^2 took a child to 7 GB in 24 s, and growing
            raise ValidationFailed.for_field("body.batch", f"batch x imgsz^2 = {batch * imgsz**2 / 1e6:.0f} MP is over "
                                             f"the {self.max_batch_pixels / 1e6:.0f} MP this server allows")
        config = SessionConfig(model=model_path, architecture=architecture, epochs=body.epochs, batch=batch,
                               imgsz=imgsz, device=body.device, lr0=body.lr0,
                               patience=body.patience, seed=body.seed)
        session_id = await self._insert_queued(
            name=body.name or f"{architecture}-{dataset.name}", task=body.task, model=str(body.model),
            base_model_id=base_model_id, dataset_id=dataset.id, config=config.to_json("train"),
            priority=body.priority, status=_S.queued.value, created_at=time.time(), epochs=body.epochs,
            created_by=created_by, on_behalf_of=on_behalf_of,
        )
        session = await self.scheduler.announce(session_id)
        self.scheduler.wake()
        return session

    async def create_evaluation(self, model_id: int, body: EvaluationCreate, *, created_by: int | None,
                                on_behalf_of: str | None) -> EvaluationRead:
        """Queue a validation run of a registered model; it waits for a slot like a training session."""
        model = await self.models.usable(model_id)
        dataset = await self._dataset_field(body.dataset)
        if dataset.task != model.task:
            raise ValidationFailed.for_field("body.dataset", f"dataset {dataset.id} is {dataset.task}, "
                                                             f"model {model.id} is {model.task}")
        if body.split not in dataset.info.images:
            raise ValidationFailed.for_field("body.split", f"dataset {dataset.id} has no {body.split} split")
        self._check_device(body.device)
        config = SessionConfig(model=str(self.models.path_of(model.id).resolve()), architecture=model.architecture,
                               epochs=1, batch=body.batch, imgsz=body.imgsz or default_imgsz(dataset),
                               device=body.device, split=body.split, conf=body.conf, iou=body.iou)
        session_id = await self._insert_queued(
            name=f"evaluate model {model.id} on {dataset.name}/{body.split}", task=model.task, kind="evaluate",
            model=str(model.id), base_model_id=model.id, dataset_id=dataset.id, config=config.to_json("evaluate"),
            priority=body.priority, status=_S.queued.value, created_at=time.time(), epochs=1,
            created_by=created_by, on_behalf_of=on_behalf_of,
        )
        evaluation_id = await self.evaluations.insert(
            session_id=session_id, model_id=model.id, dataset_id=dataset.id, split=body.split, conf=body.conf,
            iou=body.iou, imgsz=config.imgsz, created_by=created_by)
        await self.scheduler.announce(session_id)
        self.scheduler.wake()
        return await self.evaluations.get(evaluation_id)

    async def _insert_queued(self, **values: object) -> int:
        session_id = await self.store.insert(queued_cap=self.max_queued_per_key, **values)
        if session_id is None:  # one script in a loop must not fill the queue for everyone
            raise TooManyRequests(f"This key already has {self.max_queued_per_key} queued sessions; wait for some to "
                                  "start or cancel them.", code="queue_full", headers={"Retry-After": "60"},
                                  details={"max_queued_per_key": self.max_queued_per_key})
        return session_id

    async def get(self, session_id: int) -> SessionRead:
        return await self.store.get(session_id)

    async def list(self, *, statuses: list[SessionStatus] | None, limit: int, offset: int,
                   as_of: int | None = None) -> tuple[list[SessionRead], int]:
        return await self.store.list(statuses=statuses, limit=limit, offset=offset, as_of=as_of)

    async def queue(self) -> QueueRead:
        running, _ = await self.store.list(statuses=[_S.running], limit=1000, offset=0)
        queued = await self.store.queued_sessions()
        return QueueRead(running=running, queued=queued, max_concurrent=self.scheduler.limit)

    async def stop(self, session_id: int, *, key: ApiKeyRead) -> SessionRead:
        """Queued: cancelled at once. Running: asks the trainer to stop, then terminates after the grace period."""
        record = await self.store.record(session_id)
        require_owner(key, record.created_by, "session", "stop")
        if record.status == _S.queued and await self.store.transition(session_id, _S.cancelled, ended_at=time.time()):
            return await self.scheduler.announce(session_id)
        if record.status in (_S.queued, _S.running):  # queued: the scheduler took it meanwhile, it is running now
            if not await self.scheduler.request_stop(session_id):
                # The child is still starting: the flag makes the scheduler stop it as soon as it is up.
                await self.store.update(session_id, stop_requested=1)
            return await self.scheduler.announce(session_id)
        raise InvalidTransition(f"Session {session_id} is {record.status.value}; only queued or running sessions stop.",
                                details={"status": record.status.value})

    async def resume(self, session_id: int, *, key: ApiKeyRead) -> SessionRead:
        record = await self.store.record(session_id)
        require_owner(key, record.created_by, "session", "resume")
        if record.kind == "external":
            raise InvalidTransition(f"Session {session_id} is external: its own script resumes it.",
                                    details={"kind": record.kind})
        if not await self.store.transition(session_id, _S.queued, ended_at=None, stop_requested=0, error=None,
                                           error_tail=None):
            raise InvalidTransition(
                f"Session {session_id} is {record.status.value}; only interrupted or stopped sessions resume.",
                details={"status": record.status.value},
            )
        self.scheduler.wake()
        return await self.scheduler.announce(session_id)

    async def set_priority(self, session_id: int, priority: int, *, key: ApiKeyRead) -> SessionRead:
        record = await self.store.record(session_id)
        require_owner(key, record.created_by, "session", "re-prioritise")
        await self.store.update(session_id, priority=priority)
        self.scheduler.wake()
        return await self.scheduler.announce(session_id)

    async def delete(self, session_id: int) -> None:
        await self.store.row(session_id)  # 404 first
        if not await self.store.delete_unless_running(session_id):
            raise Conflict(f"Session {session_id} is running; stop it first.", code="session_running")
        await asyncio.to_thread(shutil.rmtree, self.scheduler.specs.run_dir(session_id), True)
        self.scheduler.bus.publish("session.deleted", {"session_id": session_id})

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
            base = await self.models.usable(body.model)
        except NotFound:
            raise ValidationFailed.for_field("body.model", f"model {body.model} does not exist") from None
        if base.task != body.task:
            raise ValidationFailed.for_field("body.model", f"model {base.id} is a {base.task} model, not {body.task}")
        return str(self.models.path_of(base.id).resolve()), base.architecture, base.id

    def _check_device(self, device: str) -> None:
        if device in ("auto", "cpu"):
            return
        gpus = self.scheduler.gpu_count()
        missing = [index for index in device.split(",") if int(index) >= gpus]
        if missing:
            raise ValidationFailed.for_field("body.device", f"no GPU {','.join(missing)} on this server ({gpus} GPUs found)")
