"""Which runtime serves a recognition: torch (the registered .pt) or ONNX Runtime (its ONNX export).

`auto` takes the ONNX export once there is one (faster on CPU, same detections: the export is dynamic, so it
letterboxes like torch, at the export's imgsz) and torch before that."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from api.core.errors import Conflict
from api.registry.models.service import ModelRegistry

Runtime = Literal["auto", "torch", "onnx"]
Served = Literal["torch", "onnx"]


def weights_for(models: ModelRegistry, model_id: int, requested: Runtime) -> tuple[Served, Path]:
    """(runtime that will serve, file it loads)."""
    onnx = models.path_of(model_id, "onnx")
    if requested == "torch" or (requested == "auto" and not onnx.is_file()):
        return "torch", models.path_of(model_id)
    if not onnx.is_file():
        raise Conflict(f"Model {model_id} has no ONNX export yet: POST /models/{model_id}/export?format=onnx, or "
                       "PATCH it with auto_export, or ask for runtime=auto or torch.", code="onnx_not_exported")
    return "onnx", onnx
