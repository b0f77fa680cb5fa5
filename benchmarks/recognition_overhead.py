"""Same warm model, same photo: in-process `model.predict` vs `POST /recognitions` through the server.

    .venv/bin/python benchmarks/recognition_overhead.py            # 30 requests of 1 image, 10 of 16
    .venv/bin/python benchmarks/recognition_overhead.py --quick

The model is trained by the server for one epoch on the built-in shapes data (speed does not depend
on accuracy). In-process timing includes decoding the JPEG bytes, as the server must; the server
side is the client's wall time of the HTTP request (upload, decode, queue, predict, annotate, store).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.trainers.offline import apply_offline_environment  # noqa: E402
from tests.helpers import ServerProcess  # noqa: E402

KEY = "tk_benchmark-key-0123456789"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def train_model(server: ServerProcess) -> int:
    headers = {"X-API-Key": KEY}
    body = {"task": "detect", "model": "yolov8n.yaml", "dataset": 1, "epochs": 1, "imgsz": 64}
    session = httpx.post(f"{server.url}/api/v1/sessions", json=body, headers=headers, timeout=30).json()
    while True:
        state = httpx.get(f"{server.url}/api/v1/sessions/{session['id']}", headers=headers, timeout=30).json()
        if state["status"] not in ("queued", "running"):
            return int(state["result_model_id"])
        time.sleep(0.5)


def photo_bytes(dataset_image: Path) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.open(dataset_image).convert("RGB").resize((640, 640)).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def in_process(weights: Path, photo: bytes, batch: int, runs: int) -> list[float]:
    from PIL import Image
    from ultralytics import YOLO

    model = YOLO(str(weights))
    model.predict(Image.open(io.BytesIO(photo)).convert("RGB"), verbose=False)  # warm
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        images = [Image.open(io.BytesIO(photo)).convert("RGB") for _ in range(batch)]
        model.predict(images, conf=0.5, verbose=False)
        times.append(time.perf_counter() - started)
    return times


def through_server(server: ServerProcess, model_id: int, photo: bytes, batch: int, runs: int) -> list[float]:
    with httpx.Client(base_url=f"{server.url}/api/v1", headers={"X-API-Key": KEY}, timeout=120) as http:
        files = [("images", (f"{i}.jpg", photo, "image/jpeg")) for i in range(batch)]
        http.post("/recognitions", files=files, data={"model": str(model_id)}).raise_for_status()  # warm
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            http.post("/recognitions", files=files, data={"model": str(model_id)}).raise_for_status()
            times.append(time.perf_counter() - started)
    return times


def report(label: str, direct: list[float], served: list[float], batch: int) -> None:
    d50, d95 = percentile(direct, 0.5) * 1000, percentile(direct, 0.95) * 1000
    s50, s95 = percentile(served, 0.5) * 1000, percentile(served, 0.95) * 1000
    throughput_ratio = statistics.mean(direct) / statistics.mean(served)
    print(f"{label}: in-process p50 {d50:7.1f} ms p95 {d95:7.1f} ms | server p50 {s50:7.1f} ms p95 {s95:7.1f} ms"
          f" | added p50 {(s50 - d50) / batch:6.1f} ms/image | throughput server/in-process {throughput_ratio:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    single_runs, batch_runs = (5, 2) if options.quick else (30, 10)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server = ServerProcess(work / "data", "--api-keys", KEY, "--log-level", "warning")
        try:
            server.start()
            model_id = train_model(server)
            weights = work / "data" / "models" / f"{model_id}.pt"
            photo = photo_bytes(work / "data" / "datasets" / "1" / "images" / "val" / "00000.jpg")
            served_1 = through_server(server, model_id, photo, 1, single_runs)
            served_16 = through_server(server, model_id, photo, 16, batch_runs)
        finally:
            server.stop()
        # Measured after the server stopped, so both sides have the two cores to themselves.
        apply_offline_environment(work / "data" / "ultralytics")
        direct_1 = in_process(weights, photo, 1, single_runs)
        direct_16 = in_process(weights, photo, 16, batch_runs)
    print("yolov8n, 640x640 JPEG photo, conf 0.5, CPU")
    report("1 image  ", direct_1, served_1, 1)
    report("16 images", direct_16, served_16, 16)
    print("targets: added <= 10 ms/image at p50; batch throughput >= 0.9x in-process")


if __name__ == "__main__":
    main()
