"""Typed forms of what the `sessions` table holds: the run settings (`config` column) and the whole row.

The hops of a parameter: SessionCreate (HTTP body) -> SessionConfig (stored) -> SessionRecord (read back by
the scheduler) -> RunSpec (to the child) -> contract messages (back) -> SessionRead (HTTP)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

from api.training.schemas import SessionStatus

_TRAIN_ONLY = ("lr0", "patience", "seed")
_EVALUATE_ONLY = ("split", "conf", "iou")


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionConfig:
    """The settings a session was created with; what GET /sessions/{id} shows as `config`."""

    model: str  # what the child loads: an architecture YAML or a registered model's weights path
    architecture: str
    epochs: int
    batch: int
    imgsz: int
    device: str  # as asked: auto, cpu, 0, 0,1
    lr0: float | None = None
    patience: int | None = None
    seed: int | None = None
    split: str | None = None
    conf: float | None = None
    iou: float | None = None

    def to_json(self, kind: Literal["train", "evaluate"]) -> dict[str, Any]:
        skip = _EVALUATE_ONLY if kind == "train" else _TRAIN_ONLY
        return {key: value for key, value in asdict(self).items() if key not in skip}

    @classmethod
    def from_json(cls, text: str) -> SessionConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in json.loads(text).items() if key in known})


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionRecord:
    """One `sessions` row, as the scheduler and the run supervisor read it."""

    id: int
    name: str
    kind: Literal["train", "evaluate", "external"]
    task: str  # detect | classify, or an external run's free text
    status: SessionStatus
    config: SessionConfig | None  # None for an external session: its config is the client's own JSON
    dataset_id: int | None
    base_model_id: int | None
    device: str | None
    priority: int
    created_at: float
    started_at: float | None
    run_seconds: float
    epoch: int
    epochs: int
    batches: int
    latest_metrics: dict[str, float]
    best_metrics: dict[str, float]
    best_fitness: float | None
    checkpoint: str | None
    stop_requested: bool
    attempts: int
    created_by: int | None
    node: str | None = None

    @classmethod
    def from_row(cls, row: Any) -> SessionRecord:
        data = dict(row)
        return cls(
            id=data["id"], name=data["name"], kind=data["kind"], task=data["task"], status=SessionStatus(data["status"]),
            config=None if data["kind"] == "external" else SessionConfig.from_json(data["config"]), dataset_id=data["dataset_id"],
            base_model_id=data["base_model_id"], device=data["device"], priority=data["priority"],
            created_at=data["created_at"], started_at=data["started_at"], run_seconds=data["run_seconds"],
            epoch=data["epoch"], epochs=data["epochs"], batches=data["batches"],
            latest_metrics=json.loads(data["latest_metrics"]), best_metrics=json.loads(data["best_metrics"]),
            best_fitness=data["best_fitness"], checkpoint=data["checkpoint"],
            stop_requested=bool(data["stop_requested"]), attempts=data["attempts"], created_by=data["created_by"],
            node=data.get("node"),
        )
