"""Same warm model, same photo: in-process `model.predict` vs `POST /recognitions` through the server.

    .venv/bin/python benchmarks/recognition_overhead.py            # 30 requests of 1 image, 10 of 16, per case
    .venv/bin/python benchmarks/recognition_overhead.py --quick

Three cases: a model trained at 64 px (inference is ~1 ms an image, so the server's fixed costs show at
their worst), one trained at 640 px (Ultralytics' default, what a tray photo model uses), and that model
on a 12 MP phone photo. Models are trained by the server for one epoch on the built-in shapes data (speed
does not depend on accuracy). In-process timing includes decoding the JPEG bytes, as the server must; the server
side is the client's wall time of the HTTP request (upload, decode, queue, predict, store). Both sides run
torch on all cores. The server draws annotated images when they are first requested, so they are not in
the POST; `--fetch-annotated` adds a GET of every annotated image to the server side.

Then, on the 640 px model exported to ONNX: the server serving it with ONNX Runtime vs torch in-process for one
image (target <= 0.7x), 8 concurrent clients sending one image each (micro-batched) vs in-process batches of 8
(target >= 0.9x the throughput), and the first request after a restart vs a warm one (target <= 3x).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.core.offline import apply_offline_environment  # noqa: E402
from benchmarks.common import KEY, percentile  # noqa: E402
from tests.helpers import ServerProcess  # noqa: E402


def train_model(server: ServerProcess, imgsz: int) -> int:
    headers = {"X-API-Key": KEY}
    body = {"task": "detect", "model": "yolov8n.yaml", "dataset": 1, "epochs": 1, "imgsz": imgsz, "batch": 8}
    session = httpx.post(f"{server.url}/api/v1/sessions", json=body, headers=headers, timeout=30).json()
    while True:
        state = httpx.get(f"{server.url}/api/v1/sessions/{session['id']}", headers=headers, timeout=30).json()
        if state["status"] not in ("queued", "running"):
            return int(state["result_model_id"])
        time.sleep(0.5)


def photo_bytes(dataset_image: Path, size: tuple[int, int] = (640, 640)) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.open(dataset_image).convert("RGB").resize(size).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def in_process(weights: Path, photo: bytes, batch: int, runs: int) -> list[float]:
    import torch
    from PIL import Image
    from ultralytics import YOLO

    model = YOLO(str(weights))
    model.predict(Image.open(io.BytesIO(photo)).convert("RGB"), verbose=False)  # warm
    # As the server does (RECOGNITION_THREADS=0), after the warm-up whose select_device() resets the threads.
    torch.set_num_threads(os.cpu_count() or 1)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        images = [Image.open(io.BytesIO(photo)).convert("RGB") for _ in range(batch)]
        model.predict(images, conf=0.5, verbose=False)
        times.append(time.perf_counter() - started)
    return times


def through_server(server: ServerProcess, model_id: int, photo: bytes, batch: int, runs: int,
                   fetch_annotated: bool = False, runtime: str = "auto") -> list[float]:
    with httpx.Client(base_url=f"{server.url}/api/v1", headers={"X-API-Key": KEY}, timeout=120) as http:
        files = [("images", (f"{i}.jpg", photo, "image/jpeg")) for i in range(batch)]
        form = {"model": str(model_id), "runtime": runtime}
        http.post("/recognitions", files=files, data=form).raise_for_status()  # warm
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            response = http.post("/recognitions", files=files, data=form)
            response.raise_for_status()
            if fetch_annotated:
                for image in response.json()["images"]:
                    http.get(image["image_url"].removeprefix("/api/v1")).raise_for_status()
            times.append(time.perf_counter() - started)
    return times


def concurrent_throughput(server: ServerProcess, model_id: int, photo: bytes, clients: int, per_client: int,
                          runtime: str) -> float:
    """Images per second with `clients` threads each sending `per_client` one-image requests."""
    from concurrent.futures import ThreadPoolExecutor

    def client(_: int) -> None:
        with httpx.Client(base_url=f"{server.url}/api/v1", headers={"X-API-Key": KEY}, timeout=120) as http:
            for _ in range(per_client):
                http.post("/recognitions", files={"images": ("p.jpg", photo, "image/jpeg")},
                          data={"model": str(model_id), "runtime": runtime}).raise_for_status()

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return clients * per_client / (time.perf_counter() - started)


def first_request_after_restart(server: ServerProcess, model_id: int, photo: bytes) -> float:
    server.stop()
    server.start()
    time.sleep(2)  # what a person takes to pick up the phone after the server says it is up
    started = time.perf_counter()
    httpx.post(f"{server.url}/api/v1/recognitions", headers={"X-API-Key": KEY}, timeout=120,
               files={"images": ("p.jpg", photo, "image/jpeg")}, data={"model": str(model_id)}).raise_for_status()
    return time.perf_counter() - started


def onnx_section(server: ServerProcess, model_id: int, photo: bytes, runs: int) -> dict[str, float]:
    headers = {"X-API-Key": KEY}
    httpx.post(f"{server.url}/api/v1/models/{model_id}/export", headers=headers, timeout=600).raise_for_status()
    single = through_server(server, model_id, photo, 1, runs, runtime="onnx")
    return {"onnx_1": percentile(single, 0.5), "warm_auto": percentile(through_server(server, model_id, photo, 1, runs), 0.5),
            "onnx_8_clients": concurrent_throughput(server, model_id, photo, 8, max(2, runs // 4), "onnx"),
            "torch_8_clients": concurrent_throughput(server, model_id, photo, 8, max(2, runs // 4), "torch"),
            "first": first_request_after_restart(server, model_id, photo)}


def report_onnx(results: dict[str, float], weights: Path, photo: bytes, runs: int) -> None:
    torch_1 = percentile(in_process(weights, photo, 1, runs), 0.5)
    torch_batch = 8 * runs / sum(in_process(weights, photo, 8, runs))
    print(f"640 px model, 640x640 photo, ONNX Runtime in the server vs torch in-process:\n"
          f"  1 image p50: torch in-process {torch_1 * 1000:.1f} ms | server onnx {results['onnx_1'] * 1000:.1f} ms"
          f" = {results['onnx_1'] / torch_1:.2f}x (target <= 0.7x)\n"
          f"  throughput: in-process torch batches of 8 {torch_batch:.1f} img/s | server, 8 concurrent clients: "
          f"onnx {results['onnx_8_clients']:.1f} img/s = {results['onnx_8_clients'] / torch_batch:.2f}x (target >= 0.9x),"
          f" torch {results['torch_8_clients']:.1f} img/s = {results['torch_8_clients'] / torch_batch:.2f}x\n"
          f"  first request after a restart {results['first'] * 1000:.0f} ms vs warm {results['warm_auto'] * 1000:.1f} ms"
          f" = {results['first'] / results['warm_auto']:.1f}x (target <= 3x)")


def report(label: str, direct: list[float], served: list[float], batch: int) -> None:
    d50, d95 = percentile(direct, 0.5) * 1000, percentile(direct, 0.95) * 1000
    s50, s95 = percentile(served, 0.5) * 1000, percentile(served, 0.95) * 1000
    throughput_ratio = statistics.mean(direct) / statistics.mean(served)
    print(f"{label}: in-process p50 {d50:7.1f} ms p95 {d95:7.1f} ms | server p50 {s50:7.1f} ms p95 {s95:7.1f} ms"
          f" | added p50 {(s50 - d50) / batch:6.1f} ms/image | throughput server/in-process {throughput_ratio:.2f}x")


CASES = (  # label, model imgsz, photo size
    ("64 px model, 640x640 photo ", 64, (640, 640)),
    ("640 px model, 640x640 photo", 640, (640, 640)),
    ("640 px model, 12 MP photo  ", 640, (4032, 3024)),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--fetch-annotated", action="store_true", help="also GET every annotated image")
    options = parser.parse_args()
    single_runs, batch_runs = (5, 2) if options.quick else (30, 10)
    served: dict[str, tuple[list[float], list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server = ServerProcess(work / "data", "--api-keys", KEY, "--log-level", "warning")
        try:
            server.start()
            models = {imgsz: train_model(server, imgsz) for imgsz in sorted({case[1] for case in CASES})}
            source = work / "data" / "datasets" / "1" / "images" / "val" / "00000.jpg"
            photos = {size: photo_bytes(source, size) for size in {case[2] for case in CASES}}
            for label, imgsz, size in CASES:
                served[label] = (
                    through_server(server, models[imgsz], photos[size], 1, single_runs, options.fetch_annotated),
                    through_server(server, models[imgsz], photos[size], 16, batch_runs, options.fetch_annotated))
            onnx = onnx_section(server, models[640], photos[(640, 640)], single_runs)
        finally:
            server.stop()
        # Measured after the server stopped, so both sides have the cores to themselves.
        apply_offline_environment(work / "data" / "ultralytics")
        fetched = ", annotated images fetched" if options.fetch_annotated else ""
        print(f"yolov8n, conf 0.5, CPU, {os.cpu_count()} torch threads both sides{fetched}")
        for label, imgsz, size in CASES:
            weights = work / "data" / "models" / f"{models[imgsz]}.pt"
            report(f"{label} | 1 image  ", in_process(weights, photos[size], 1, single_runs), served[label][0], 1)
            report(f"{label} | 16 images", in_process(weights, photos[size], 16, batch_runs), served[label][1], 16)
        print("targets: added <= 10 ms/image at p50; batch throughput >= 0.9x in-process")
        report_onnx(onnx, work / "data" / "models" / f"{models[640]}.pt", photos[(640, 640)], single_runs)


if __name__ == "__main__":
    main()
