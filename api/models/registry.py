"""Schemas of registered models."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.models.datasets import Task


class ModelRead(BaseModel):
    id: int
    name: str
    task: Task
    architecture: str
    classes: list[str]
    metrics: dict[str, float]
    source: str = Field(description="'training' or 'upload'.")
    session_id: int | None
    size_bytes: int
    sha256: str
    created_at: float
    created_by: int | None
    original_filename: str | None = None


class ModelList(BaseModel):
    items: list[ModelRead]
    total: int


class ModelExport(BaseModel):
    model_id: int
    format: str
    imgsz: int
    size_bytes: int
    download_url: str = Field(examples=["/api/v1/models/1/download?format=onnx"])
