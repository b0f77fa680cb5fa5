"""Memory the server (and its child processes) takes for hostile-but-allowed work, against a stated bound.

python benchmarks/memory_bounds.py [--bound-mb 1536] [--photos 32]

Starts run_api.py, uploads a model (YOLO("yolov8n.yaml").save, nothing downloaded), then samples the RSS of the
server and all its children every 50 ms while it: draws the sample view of a 1x6000 px image (planted in a stored
dataset, as an older server version accepted it), recognizes 32 PNGs of 6320x6320 px (131 KB each) in one
request, and runs 4 ONNX exports at once. Prints the peak above idle per stage and exits 1 over the bound."""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import KEY, yolo_checkpoint  # noqa: E402
from tests.helpers import ServerProcess  # noqa: E402


def tree_rss_mb(pid: int) -> float:
    try:
        process = psutil.Process(pid)
        processes = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for each in processes:
        try:
            total += each.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


class Sampler:
    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self.start = tree_rss_mb(pid)
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_mb(self.pid))
            time.sleep(0.05)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def big_png(side: int = 6320) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (90, 140, 200)).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def plant_strip(data_dir: Path) -> None:
    from PIL import Image

    Image.new("RGB", (1, 6000), (0, 0, 0)).save(data_dir / "datasets" / "1" / "images" / "train" / "0000-strip.png")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bound-mb", type=float, default=1536.0)
    parser.add_argument("--photos", type=int, default=32)
    parser.add_argument("--exports", type=int, default=4)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server = ServerProcess(work / "data", "--api-keys", KEY, "--log-level", "warning",
                               env={"YOLO_OFFLINE": "1"}).start()
        try:
            http = httpx.Client(base_url=f"{server.url}/api/v1", headers={"X-API-Key": KEY}, timeout=600)
            model = http.post("/models", files={"file": ("m.pt", yolo_checkpoint(work))})
            assert model.status_code == 201, model.text
            model_id = model.json()["id"]
            plant_strip(server.data_dir)
            png = big_png()
            warm = http.post("/recognitions", files=[("images", ("w.png", png, "image/png"))], data={"model": model_id})
            assert warm.status_code == 201, warm.text
            time.sleep(1)
            idle = tree_rss_mb(server.proc.pid)  # type: ignore[union-attr]
            print(f"idle (model loaded): {idle:,.0f} MB; bound: +{options.bound_mb:,.0f} MB; PNG: {len(png):,} bytes")
            peaks: dict[str, tuple[float, float]] = {}
            with Sampler(server.proc.pid) as sampler:  # type: ignore[union-attr]
                sample = http.get("/datasets/1/samples/0")
                assert sample.status_code == 200, sample.text
            peaks["1x6000 sample view"] = (sampler.start, sampler.peak)
            files = [("images", (f"p{i}.png", png, "image/png")) for i in range(options.photos)]
            with Sampler(server.proc.pid) as sampler:  # type: ignore[union-attr]
                started = time.perf_counter()
                done = http.post("/recognitions", files=files, data={"model": model_id})
                assert done.status_code == 201, done.text
            peaks[f"{options.photos} PNGs of 6320x6320 ({time.perf_counter() - started:.1f} s)"] = (sampler.start, sampler.peak)
            with Sampler(server.proc.pid) as sampler, ThreadPoolExecutor(options.exports) as pool:  # type: ignore[union-attr]
                started = time.perf_counter()
                codes = list(pool.map(lambda _: http.post(f"/models/{model_id}/export", params={"imgsz": 320}).status_code,
                                      range(options.exports)))
                assert codes == [201] * options.exports, codes
            peaks[f"{options.exports} parallel exports ({time.perf_counter() - started:.1f} s)"] = (sampler.start, sampler.peak)
        finally:
            server.stop()
    worst = 0.0
    for stage, (start, peak) in peaks.items():
        worst = max(worst, peak - idle)
        print(f"{stage:<40} peak {peak:7,.0f} MB = idle + {peak - idle:6,.0f} MB (stage start: idle + {start - idle:,.0f})")
    verdict = "within" if worst <= options.bound_mb else "OVER"
    print(f"worst: idle + {worst:,.0f} MB, {verdict} the bound of +{options.bound_mb:,.0f} MB")
    return 0 if worst <= options.bound_mb else 1


if __name__ == "__main__":
    sys.exit(main())
