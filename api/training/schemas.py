"""Schemas of training sessions, their metrics and logs."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from api.core.schemas import MAX_ID
from api.registry.datasets.schemas import Task

# \Z, not $ (which also matches before a trailing newline); [0-9], not \d (which matches any script's digits).
ARCHITECTURE_PATTERN = re.compile(r"^(yolov8|yolo11|yolo26)[nsmlx](-cls)?\.yaml\Z")
DEVICE_PATTERN = re.compile(r"^(auto|cpu|[0-9]{1,2}(,[0-9]{1,2}){0,15})\Z")


class SessionStatus(StrEnum):
    queued = "queued"
    running = "running"
    completed = "completed"
    failed = "failed"
    stopped = "stopped"
    cancelled = "cancelled"
    interrupted = "interrupted"


class SessionCreate(BaseModel):
    kind: Literal["train"] = Field("train", description="train (default): this server trains. For your own "
                                   "script's run, send kind external (see the ingest routes).")
    name: str | None = Field(None, max_length=100, examples=["shapes-baseline"])
    task: Task = Field(examples=["detect"])
    model: str | int = Field(
        description="An Ultralytics architecture YAML (yolov8n.yaml, yolo11n.yaml, yolo11n-cls.yaml, yolo26n.yaml, "
        "sizes n/s/m/l/x) to train from scratch, or a registered model id to fine-tune.",
        examples=["yolov8n.yaml"],
    )
    dataset: int = Field(ge=1, le=MAX_ID, description="Dataset id.", examples=[1])
    epochs: int = Field(ge=1, le=10000, examples=[3])
    batch: int | None = Field(None, ge=1, le=1024, description="Default 16 (fewer when the dataset is smaller).")
    imgsz: int | None = Field(None, ge=32, le=2048, multiple_of=32, description="Default: fits the dataset's images.")
    device: str = Field("auto", description="auto, cpu, a GPU index (0) or a list (0,1).", examples=["auto"])
    priority: int = Field(0, ge=-1000, le=1000, description="Higher starts first.")
    lr0: float | None = Field(None, gt=0, le=1)
    patience: int | None = Field(None, ge=0, le=10000)
    seed: int | None = Field(None, ge=0, le=2**31 - 1)

    @field_validator("model")
    @classmethod
    def _model_spec(cls, value: str | int) -> str | int:
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            if not 1 <= int(value) <= MAX_ID:
                raise ValueError(f"a model id is an integer from 1 to {MAX_ID}")
            return int(value)
        if not ARCHITECTURE_PATTERN.match(value):
            raise ValueError("must be an architecture YAML such as yolov8n.yaml / yolo11n-cls.yaml, or a model id")
        return value

    @field_validator("device")
    @classmethod
    def _device(cls, value: str) -> str:
        value = value.strip().lower().replace(" ", "")
        if not DEVICE_PATTERN.match(value):
            raise ValueError("must be auto, cpu, or GPU indices like 0 or 0,1")
        return value


class SessionUpdate(BaseModel):
    priority: int = Field(ge=-1000, le=1000)


class SessionProgress(BaseModel):
    epoch: int = Field(description="Epochs finished.")
    epochs: int
    batch: int = Field(description="Batches done in the current epoch.")
    batches: int
    percent: float
    elapsed_s: float
    eta_s: float | None


class SessionRead(BaseModel):
    id: int
    name: str
    kind: Literal["train", "evaluate", "external"] = Field("train", description=(
        "evaluate: a queued POST /models/{id}/evaluate; external: outside code reports into it."))
    task: str = Field(description="detect or classify; free text for an external session.")
    model: str
    base_model_id: int | None
    dataset_id: int | None = Field(description="None once the dataset was deleted.")
    config: dict[str, Any]
    priority: int
    status: SessionStatus
    device: str | None
    node: str | None = Field(None, description="The cluster node the run was placed on (Ray executor).")
    created_at: float
    started_at: float | None
    ended_at: float | None
    progress: SessionProgress
    latest_metrics: dict[str, float]
    best_metrics: dict[str, float]
    stop_requested: bool
    attempts: int = Field(description="How many times a child process was started (resumes count).")
    error: str | None = None
    error_tail: list[str] | None = Field(None, description="Last log lines of a failed run.")
    result_model_id: int | None = None
    created_by: int | None = None
    on_behalf_of: str | None = None


class SessionList(BaseModel):
    items: list[SessionRead]
    total: int


class QueueRead(BaseModel):
    running: list[SessionRead]
    queued: list[SessionRead] = Field(description="In the order they will start.")
    max_concurrent: int


class MetricPoint(BaseModel):
    key: str
    step: int
    epoch: int
    value: float
    ts: float


class MetricList(BaseModel):
    items: list[MetricPoint]
    total: int


class MetricColumns(BaseModel):
    """One key's history as parallel arrays (`?format=columns`)."""

    key: str
    total: int
    steps: list[int] | None = None
    epochs: list[int] | None = None
    values: list[float] | None = Field(None, description="To 15 significant digits.")
    ts: list[float] | None = None


class LatestMetrics(BaseModel):
    session_id: int
    epoch: int
    metrics: dict[str, float] = Field(description="Latest value of every key.")


class LogLine(BaseModel):
    id: int
    ts: float
    level: str
    message: str


class LogList(BaseModel):
    items: list[LogLine]
    total: int


LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
