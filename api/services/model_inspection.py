"""What an (already scanned) Ultralytics checkpoint is: task, architecture, classes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.errors import ValidationFailed

_TASKS = {"DetectionModel": "detect", "ClassificationModel": "classify"}


@dataclass(frozen=True, slots=True)
class CheckpointInfo:
    task: str
    architecture: str
    classes: list[str]
    metrics: dict[str, float]


def _invalid(reason: str) -> ValidationFailed:
    return ValidationFailed(f"Not a usable Ultralytics model: {reason}.", code="invalid_model",
                            details={"reason": reason})


def _architecture(model: Any) -> str:
    """The YAML the model was built from (Ultralytics keeps the scaled name, e.g. yolov8n.yaml)."""
    spec = getattr(model, "yaml", None)
    source = spec.get("yaml_file") if isinstance(spec, dict) else None
    name = Path(str(source)).stem if source else type(model).__name__
    # It comes from inside the uploaded file and ends up in a download's file name (a header): plain chars only.
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:64] or "model"


def inspect_checkpoint(path: Path) -> CheckpointInfo:
    """Load (after pickle_scan allowed it) and describe; garbage and truncated files become 422."""
    import torch

    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise _invalid(f"cannot be loaded ({type(exc).__name__})") from None
    if not isinstance(checkpoint, dict):
        raise _invalid("the file holds no checkpoint dictionary")
    model = checkpoint.get("ema") or checkpoint.get("model")
    if model is None or not isinstance(model, torch.nn.Module):
        raise _invalid("no model in the checkpoint")
    task = _TASKS.get(type(model).__name__)
    if task is None:
        raise _invalid(f"{type(model).__name__} is not a detect or classify model")
    names = getattr(model, "names", None)
    if isinstance(names, dict):
        classes = [str(names[key]) for key in sorted(names)]
    elif isinstance(names, list | tuple):
        classes = [str(name) for name in names]
    else:
        raise _invalid("the model has no class names")
    raw_metrics = checkpoint.get("train_metrics") or {}
    metrics = {str(k): float(v) for k, v in raw_metrics.items() if isinstance(v, int | float)}
    return CheckpointInfo(task=task, architecture=_architecture(model), classes=classes, metrics=metrics)
