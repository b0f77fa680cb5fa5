"""Model export, run in a spawned child process (it imports torch and Ultralytics; a crash stays there)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from api.core.offline import apply_offline_environment

FORMATS = ("onnx",)


class MissingDependency(RuntimeError):
    """An optional package an export format needs is not installed."""


def export_model(weights: str, export_format: str, imgsz: int | None, config_dir: str, target: str) -> tuple[int, int]:
    """Export `weights` and move the result to `target`; returns (its size in bytes, the imgsz it was made for).
    imgsz None: the model's training size, the size torch serves it at (recognition's ONNX runtime then matches)."""
    apply_offline_environment(Path(config_dir))
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Ultralytics prints progress; nobody reads it here
    if export_format == "onnx":
        try:
            import onnx  # noqa: F401
        except ImportError:
            raise MissingDependency("ONNX export needs the 'onnx' package: pip install onnx") from None
    from ultralytics import YOLO

    work = Path(target).parent / f".export-{Path(target).stem}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        local = work / "model.pt"
        shutil.copyfile(weights, local)
        model = YOLO(str(local))
        trained = model.overrides.get("imgsz", 640)
        imgsz = imgsz or int(max(trained) if isinstance(trained, (list, tuple)) else trained)
        # simplify=False: onnxslim is an extra dependency, and the graph works without it. dynamic: any batch and
        # photo shape, so recognition micro-batches and letterboxes exactly as torch does.
        produced = model.export(format=export_format, imgsz=imgsz, simplify=False, dynamic=export_format == "onnx")
        Path(produced).replace(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Path(target).stat().st_size, imgsz
