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


def export_model(weights: str, export_format: str, imgsz: int, config_dir: str, target: str) -> int:
    """Export `weights` and move the result to `target`; returns its size in bytes."""
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
        # simplify=False: onnxslim is an extra dependency, and the graph works without it.
        produced = YOLO(str(local)).export(format=export_format, imgsz=imgsz, simplify=False)
        Path(produced).replace(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Path(target).stat().st_size
