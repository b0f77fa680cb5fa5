"""Schemas of datasets."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Task = Literal["detect", "classify"]


class DatasetInfo(BaseModel):
    images: dict[str, int] = Field(description="Images per split.")
    instances: dict[str, int] = Field(description="Labelled objects (detect) or images (classify) per class name.")
    background_images: int = Field(0, description="Detection images with no label file or an empty one.")
    image_size_min: list[int] | None = Field(None, description="Smallest width, height seen.")
    image_size_max: list[int] | None = Field(None, description="Largest width, height seen.")
    size_bytes: int


class DatasetRead(BaseModel):
    id: int
    name: str
    task: Task
    source: str = Field(description="'builtin' or 'upload'.")
    classes: list[str]
    info: DatasetInfo
    sha256: str | None = None
    created_at: float
    created_by: int | None = None
    original_filename: str | None = Field(None, description="The uploaded file's name (metadata only).")


class DatasetList(BaseModel):
    items: list[DatasetRead]
    total: int
