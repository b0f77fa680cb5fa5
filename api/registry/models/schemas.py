"""Schemas of registered models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.registry.datasets.schemas import Task


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
    validated: bool = Field(True, description="False until the server has loaded it safely (start-up re-check).")
    quarantine_reason: str | None = Field(
        None, description="Set when the weights failed the safe-load check: the model cannot be used, only deleted.")
    auto_export: bool = Field(False, description="An ONNX export is made in the background, so recognition's "
                                                 "runtime=auto serves it with ONNX Runtime.")


class ModelList(BaseModel):
    items: list[ModelRead]
    total: int


class ModelExport(BaseModel):
    model_id: int
    format: str
    imgsz: int
    size_bytes: int
    download_url: str = Field(examples=["/api/v1/models/1/download?format=onnx"])


class ModelUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    auto_export: bool = Field(description="Export to ONNX in the background now and keep serving it.")
