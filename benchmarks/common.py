"""What every benchmark shares: the server's API key for the run, a percentile, a YOLO checkpoint built offline."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

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


def time_session(url: str, body: dict[str, Any], output: str = "") -> float:
    """Seconds from POST /sessions to the session reading `completed` (anything else ends the benchmark)."""
    headers = {"X-API-Key": KEY}
    started = time.perf_counter()
    session = httpx.post(f"{url}/api/v1/sessions", json=body, headers=headers, timeout=30).json()
    while True:
        status = httpx.get(f"{url}/api/v1/sessions/{session['id']}", headers=headers, timeout=30).json()
        if status["status"] not in ("queued", "running"):
            break
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    if status["status"] != "completed":
        raise SystemExit(f"run ended {status['status']}: {status['error']}\n{output[-3000:]}")
    return elapsed
