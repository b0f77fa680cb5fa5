"""Schemas of evaluations (Ultralytics validation of a registered model on a dataset split)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.core.schemas import MAX_ID
from api.training.schemas import SessionStatus


class EvaluationCreate(BaseModel):
    dataset: int = Field(ge=1, le=MAX_ID, examples=[1])
    split: Literal["train", "val", "test"] = "val"
    conf: float = Field(0.001, ge=0, le=1, description="Detection confidence threshold (Ultralytics' val default).")
    iou: float = Field(0.7, ge=0, le=1)
    imgsz: int | None = Field(None, ge=32, le=2048, multiple_of=32, description="Default: fits the dataset.")
    batch: int = Field(16, ge=1, le=1024)
    device: str = Field("auto", pattern=r"^(auto|cpu|[0-9]{1,2}(,[0-9]{1,2}){0,15})$")
    priority: int = Field(0, ge=-1000, le=1000)


class EvaluationRead(BaseModel):
    id: int
    session_id: int = Field(description="The queue entry that runs it (GET /sessions/{id} for logs).")
    status: SessionStatus
    model_id: int | None
    dataset_id: int | None
    split: str
    conf: float
    iou: float
    imgsz: int
    metrics: dict[str, float] | None = Field(None, description="precision, recall, mAP50, mAP50-95 (detect); "
                                                                 "top1, top5 (classify).")
    per_class: dict[str, dict[str, float]] | None = None
    error: str | None = None
    created_at: float
    created_by: int | None
