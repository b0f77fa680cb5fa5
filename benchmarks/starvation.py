"""Interactive requests while bulk work runs: a 1-image recognition and GET /system, idle and during N parallel
dataset uploads of M MB each (upload, extraction, validation, registration).

python benchmarks/starvation.py [--uploads 6] [--upload-mb 50] [--check]

Starts run_api.py, uploads a model (built offline from yolov8n.yaml), measures recognition and GET /system idle,
then again while the uploads run (each a valid YOLO detection zip of noise JPEGs, so it neither compresses nor
repeats). Prints both side by side; --check exits 1 when recognition max >= 1 s or GET /system p99 >= 50 ms
under load (the targets of issue 20)."""

from __future__ import annotations

import argparse
import io
import random
import sys
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import KEY, percentile, yolo_checkpoint  # noqa: E402
from tests.helpers import ServerProcess  # noqa: E402


def noise_dataset_zip(path: Path, megabytes: float, seed: int) -> Path:
    """A YOLO detection archive of ~`megabytes` of 256 px noise JPEGs (about 150 KB each), one box per image."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("data.yaml", "names: [square, circle, triangle]\n")
        written, index = 0, 0
        while written < megabytes * 2**20:
            split = "val" if index % 5 == 0 else "train"
            buffer = io.BytesIO()
            Image.fromarray(rng.integers(0, 256, (256, 256, 3), dtype=np.uint8)).save(buffer, "JPEG", quality=95)
            archive.writestr(f"images/{split}/{index:05d}.jpg", buffer.getvalue())
            archive.writestr(f"labels/{split}/{index:05d}.txt", f"{index % 3} 0.5 0.5 0.3 0.3\n")
            written += buffer.tell()
            index += 1
    return path


class Probe:
    """Times recognitions (every `period_s`) and GET /system (every 50 ms) on threads of their own."""

    def __init__(self, url: str, model_id: int, photo: bytes) -> None:
        self.url, self.model_id, self.photo = url, model_id, photo
        self.recognitions: list[float] = []
        self.system: list[float] = []
        self.errors: list[str] = []
        self._stop = threading.Event()

    def _loop(self, period_s: float, request: str) -> None:
        with httpx.Client(base_url=self.url, headers={"X-API-Key": KEY}, timeout=300) as http:
            while not self._stop.is_set():
                started = time.perf_counter()
                if request == "recognition":
                    response = http.post("/recognitions", files={"images": ("a.jpg", self.photo)},
                                         data={"model": str(self.model_id)})
                else:
                    response = http.get("/system")
                elapsed = time.perf_counter() - started
                if response.status_code not in (200, 201):
                    self.errors.append(f"{request}: {response.status_code} {response.text[:200]}")
                (self.recognitions if request == "recognition" else self.system).append(elapsed)
                self._stop.wait(max(0.0, period_s - elapsed))

    def __enter__(self) -> Probe:
        self._threads = [threading.Thread(target=self._loop, args=(0.25, "recognition"), daemon=True),
                         threading.Thread(target=self._loop, args=(0.05, "system"), daemon=True)]
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def summary(self) -> tuple[float, float, float, float]:
        """(recognition p50, recognition max, /system p50, /system p99), in ms."""
        ms = [1000 * v for v in self.recognitions], [1000 * v for v in self.system]
        return percentile(ms[0], 0.5), max(ms[0], default=float("nan")), percentile(ms[1], 0.5), percentile(ms[1], 0.99)


def upload(url: str, archive: Path) -> tuple[int, float]:
    started = time.perf_counter()
    with httpx.Client(base_url=url, headers={"X-API-Key": KEY}, timeout=900) as http, archive.open("rb") as file:
        response = http.post("/datasets", files={"file": (archive.name, file, "application/zip")})
    return response.status_code, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=6)
    parser.add_argument("--upload-mb", type=float, default=50.0)
    parser.add_argument("--idle-s", type=float, default=5.0)
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        archives = [noise_dataset_zip(work / f"set{i}.zip", options.upload_mb, seed=random.randrange(2**32))
                    for i in range(options.uploads)]
        server = ServerProcess(work / "data", "--api-keys", KEY, "--log-level", "warning",
                               env={"YOLO_OFFLINE": "1"}).start()
        try:
            url = f"{server.url}/api/v1"
            with httpx.Client(base_url=url, headers={"X-API-Key": KEY}, timeout=300) as http:
                model = http.post("/models", files={"file": ("m.pt", yolo_checkpoint(work))})
                assert model.status_code == 201, model.text
                photo = http.get("/datasets/1/samples/0").content
                warm = http.post("/recognitions", files={"images": ("a.jpg", photo)}, data={"model": model.json()["id"]})
                assert warm.status_code == 201, warm.text
            with Probe(url, model.json()["id"], photo) as idle:
                time.sleep(options.idle_s)
            with Probe(url, model.json()["id"], photo) as loaded, ThreadPoolExecutor(options.uploads) as pool:
                started = time.perf_counter()
                uploads = list(pool.map(lambda archive: upload(url, archive), archives))
                bulk_s = time.perf_counter() - started
        finally:
            server.stop()
    print(f"{options.uploads} parallel uploads of {options.upload_mb:.0f} MB: {bulk_s:.1f} s, statuses "
          f"{sorted(code for code, _ in uploads)}, slowest {max(s for _, s in uploads):.1f} s")
    print(f"{'':28}{'idle':>12}{'during uploads':>18}{'ratio':>9}")
    rows = zip(("recognition p50 ms", "recognition max ms", "GET /system p50 ms", "GET /system p99 ms"),
               idle.summary(), loaded.summary(), strict=True)
    for name, before, during in rows:
        print(f"{name:28}{before:12.1f}{during:18.1f}{during / before:8.1f}x")
    print(f"samples during uploads: {len(loaded.recognitions)} recognitions, {len(loaded.system)} GET /system; "
          f"errors: {loaded.errors[:5] or 'none'}")
    _, recognition_max, _, system_p99 = loaded.summary()
    met = recognition_max < 1000 and system_p99 < 50 and not loaded.errors
    print(f"targets (recognition max < 1000 ms, GET /system p99 < 50 ms): {'met' if met else 'MISSED'}")
    return 0 if met or not options.check else 1


if __name__ == "__main__":
    sys.exit(main())
