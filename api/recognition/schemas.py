"""Schemas of recognitions: a photo in, detections, counts and a verdict out."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Verdict = Literal["complete", "incomplete", "unchecked"]
RecognitionStatus = Literal["queued", "running", "completed", "failed"]


class Detection(BaseModel):
    class_id: int
    name: str
    confidence: float
    box: list[float] = Field(description="x1, y1, x2, y2 in pixels of the (EXIF-rotated) image.")
    box_normalized: list[float] = Field(description="x1, y1, x2, y2 in 0..1.")


class ImageResult(BaseModel):
    index: int
    width: int
    height: int
    detections: list[Detection]
    counts: dict[str, int] = Field(description="Objects per class name (classification: the top-1 class, 1).")
    top5: list[dict[str, float | str]] | None = Field(None, description="Classification models only.")
    verdict: Verdict
    found: int
    expected: int | None = None
    missing: dict[str, int] = Field(default_factory=dict)
    extra: dict[str, int] = Field(default_factory=dict)
    image_url: str
    original_url: str


class RecognitionParams(BaseModel):
    conf: float
    iou: float
    classes: list[str] | None = None
    expected_count: int | None = None
    kit: dict[str, int] | None = None
    kit_id: int | None = Field(None, description="The stored kit whose items are `kit`.")
    runtime: Literal["auto", "torch", "onnx"] = "auto"


class RecognitionRead(BaseModel):
    id: int
    created_at: float
    key_id: int | None
    on_behalf_of: str | None
    model_id: int | None
    params: RecognitionParams
    kit_id: int | None = Field(None, description="The stored kit it checked (null when none, or once it is deleted).")
    verdict: Verdict | None = Field(description="complete only if every image is complete; null until an async batch "
                                    "has completed.")
    images: list[ImageResult]
    timings_ms: dict[str, float] = Field(
        description="decode, queue_wait, inference, postprocess, store, total (ms). Annotated images are drawn "
        "when first requested; that time is the `annotate` stage of /metrics.")
    runtime: Literal["torch", "onnx"] | None = Field(None, description="What served it: torch or onnx (ONNX Runtime).")
    images_removed_at: float | None = Field(
        None, description="When the retention setting removed the image files (the results stay).")
    status: RecognitionStatus = Field("completed", description="An async batch (mode=async): queued, running, then "
                                      "completed or failed. A sync recognition is stored completed.")
    processed: int = Field(0, description="Images recognized so far (all of them once completed).")
    total: int = Field(0, description="Images in the recognition.")
    error: str | None = Field(None, description="Why an async batch failed.")


class RecognitionList(BaseModel):
    items: list[RecognitionRead]
    total: int
