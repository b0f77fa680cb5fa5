"""What every benchmark shares: the server's API key for the run, a percentile, a YOLO checkpoint built offline."""

from __future__ import annotations

from pathlib import Path

KEY = "tk_benchmark-key-0123456789"


def percentile(values: list[float], q: float) -> float:
    """The q-quantile by nearest rank (q in 0..1); NaN for no values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def yolo_checkpoint(work: Path) -> bytes:
    from api.core.offline import apply_offline_environment

    apply_offline_environment(work / "ultralytics")  # offline, and no settings file in the user's home
    from ultralytics import YOLO

    path = work / "model.pt"
    YOLO("yolov8n.yaml").save(str(path))
    return path.read_bytes()
