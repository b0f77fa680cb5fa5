"""What an untrusted checkpoint is (task, architecture, classes, metrics), and its normalised copy.

The input is the inert tree safe_load.py returns. The normalised copy is a real Ultralytics model rebuilt by
trusted code from the checkpoint's architecture description, in Ultralytics' restricted mode (no eval, known
layers only), with the checkpoint's tensors loaded into it strictly. Only that copy is ever stored, so every later
load (recognition, fine-tuning, export) reads a file this server wrote from plain data."""

from __future__ import annotations

import copy
import math
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from api.core.text import printable
from api.registry.models.safe_load import Shim, refused

_TASKS = {"DetectionModel": "detect", "YOLOv10DetectionModel": "detect", "ClassificationModel": "classify"}
_PLAIN = (str, int, float, bool, type(None))
MAX_CLASSES = 10_000


@dataclass(frozen=True, slots=True)
class CheckpointInfo:
    task: str
    architecture: str
    classes: list[str]
    metrics: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _model_of(checkpoint: Any) -> Shim:
    if not isinstance(checkpoint, dict):
        raise refused("the file holds no checkpoint dictionary")
    model = checkpoint.get("ema") or checkpoint.get("model")
    if not isinstance(model, Shim):
        raise refused("no model in the checkpoint")
    if model.class_name not in _TASKS:
        raise refused(f"{model.class_name} is not a detect or classify model")
    return model


def _classes(model: Shim) -> list[str]:
    names = model.__dict__.get("names")
    if isinstance(names, dict) and all(isinstance(key, int) for key in names):
        values = [names[key] for key in sorted(names)]
    elif isinstance(names, list | tuple):
        values = list(names)
    else:
        raise refused("the model has no class names")
    if not 0 < len(values) <= MAX_CLASSES:
        raise refused("the model has no usable class names")
    return [printable(value) or f"class{index}" for index, value in enumerate(values)]


def _architecture(yaml: dict[str, Any], model: Shim) -> str:
    """The YAML the model was built from (Ultralytics keeps the scaled name, e.g. yolov8n.yaml)."""
    source = yaml.get("yaml_file")
    name = Path(str(source)).stem if source else model.class_name
    # It ends up in a download's file name (a header): plain characters only.
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:64] or "model"


def _plain(value: Any, depth: int = 0) -> Any:
    """The value if it is JSON-like data (what a yaml or train args may hold); refuses anything else."""
    if isinstance(value, _PLAIN):
        return value
    if depth < 8 and isinstance(value, list | tuple):
        return [_plain(item, depth + 1) for item in value]
    if depth < 8 and isinstance(value, dict):
        return {str(key): _plain(item, depth + 1) for key, item in value.items()}
    raise refused(f"its architecture holds a {type(value).__name__}")


def _yaml(model: Shim) -> dict[str, Any]:
    yaml = model.__dict__.get("yaml")
    if not isinstance(yaml, dict) or not isinstance(yaml.get("backbone"), list):
        raise refused("the model carries no architecture description")
    return _plain(yaml)


def inspect_checkpoint(checkpoint: Any) -> CheckpointInfo:
    model = _model_of(checkpoint)
    raw_metrics = checkpoint.get("train_metrics") or {}
    metrics = {printable(k, 100): float(v) for k, v in raw_metrics.items()
               if isinstance(v, int | float) and math.isfinite(float(v))} if isinstance(raw_metrics, dict) else {}
    return CheckpointInfo(task=_TASKS[model.class_name], architecture=_architecture(_yaml(model), model),
                          classes=_classes(model), metrics=metrics)


def _tensors(shim: Any, prefix: str = "", depth: int = 0) -> dict[str, Any]:
    """The shim tree's parameters and buffers under their state-dict names."""
    import torch

    if depth > 64:
        raise refused("the model is nested too deeply")
    found: dict[str, Any] = {}
    for table in ("_parameters", "_buffers"):
        for name, value in (shim.__dict__.get(table) or {}).items():
            if isinstance(value, torch.Tensor):
                found[f"{prefix}{name}"] = value
    for name, child in (shim.__dict__.get("_modules") or {}).items():
        if isinstance(child, Shim):
            found.update(_tensors(child, f"{prefix}{name}.", depth + 1))
    return found


def normalise(checkpoint: Any, target: Path) -> CheckpointInfo:
    """Rebuild the model with trusted code, load the tensors strictly, save a clean checkpoint at `target`."""
    import torch
    from ultralytics.nn import tasks

    info = inspect_checkpoint(checkpoint)
    model = _model_of(checkpoint)
    yaml = _yaml(model)
    tasks._SafeLoad._local.active = True  # parse_model's known-layers path: no eval() of the yaml's strings
    try:
        builder = tasks.ClassificationModel if info.task == "classify" else tasks.DetectionModel
        real = builder(cfg=copy.deepcopy(yaml), ch=int(yaml.get("channels", 3)), nc=len(info.classes), verbose=False)
    except Exception as exc:
        raise refused(f"its architecture cannot be built ({type(exc).__name__})") from None
    finally:
        tasks._SafeLoad._local.active = False
    tensors = _tensors(model)
    expected = real.state_dict()
    try:
        real.load_state_dict({key: tensors[key] for key in expected}, strict=True)
    except (KeyError, RuntimeError) as exc:
        raise refused(f"its weights do not fit its architecture ({type(exc).__name__})") from None
    first = next(iter(tensors.values()), None)
    if first is not None and first.dtype == torch.float16:
        real = real.half()
    real.names = dict(enumerate(info.classes))
    # Ultralytics reads the task and the training imgsz back from train_args (the model's own args otherwise).
    args = checkpoint.get("train_args") if isinstance(checkpoint.get("train_args"), dict) else model.__dict__.get("args")
    train_args = {str(k): v for k, v in args.items() if isinstance(v, _PLAIN)} if isinstance(args, dict) else {}
    train_args["task"] = info.task
    real.args = train_args
    real.eval()
    clean = {"date": None, "version": str(checkpoint.get("version", ""))[:32], "model": real, "ema": None,
             "train_args": train_args, "train_metrics": info.metrics, "epoch": -1, "optimizer": None}
    torch.save(clean, target)
    return info
