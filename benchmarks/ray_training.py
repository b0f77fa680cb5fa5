"""Training wall time of one config through the Ray executor vs the local executor (the embedded default).

    .venv/bin/pip install -r requirements-ray.txt
    .venv/bin/python benchmarks/ray_training.py            # ~2 x 2 minutes
    .venv/bin/python benchmarks/ray_training.py --quick    # smoke run, 2 epochs

Both sides: the same server code from POST /sessions to the session reading `completed`, the same data, the
same arguments and the same CPU threads (the local child uses every core; the Ray run asks for every core,
RAY_CPUS_PER_RUN, and Ray gives it as many threads). The Ray side runs on a one-node cluster on this machine
(a head started here, in a private network namespace as in the tests), so the difference is what the executor
adds: placing an actor, fetching the dataset by hash into the node cache, reporting over HTTP instead of a pipe,
uploading checkpoints and the weights. Needs root (the namespace)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import KEY, time_session  # noqa: E402
from tests.helpers import ServerProcess  # noqa: E402
from tests.ray_cluster import PrivateNetwork, RayNodes, ensure_ray  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--images", type=int, default=160, help="train images of the generated shapes dataset")
    parser.add_argument("--quick", action="store_true", help="2 epochs, 24 images: a smoke run")
    options = parser.parse_args()
    if options.quick:
        options.epochs, options.images = 2, 24
    ensure_ray()
    cores = os.cpu_count() or 1
    body = {"task": "detect", "model": "yolov8n.yaml", "dataset": 1, "epochs": options.epochs, "imgsz": 128,
            "batch": 16, "device": "cpu"}
    env = {"SHAPES_TRAIN_IMAGES": str(options.images)}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        local = ServerProcess(work / "local", "--api-keys", KEY, "--log-level", "warning", env=env)
        try:
            local.start()
            local_s = time_session(local.url, body, local.output())
        finally:
            local.stop()
        network = PrivateNetwork()
        nodes = RayNodes(network, cpus_per_node=cores)
        ray_server = ServerProcess(work / "ray", "--api-keys", KEY, "--log-level", "warning", "--executor", "ray", env={
            **env, "RAY_ADDRESS": nodes.address, "RAY_NODE_CACHE": str(work / "nodes"), "RAY_CPUS_PER_RUN": str(cores)})
        ray_server.env["PUBLIC_URL"] = ray_server.url
        try:
            nodes.start_head()
            network.call(ray_server.start)
            network.call(lambda: _wait_connected(ray_server))
            ray_s = network.call(time_session, ray_server.url, body)
        finally:
            network.call(ray_server.stop)
            nodes.stop()
            network.close()
    print(f"config: yolov8n.yaml, shapes {options.images} train images, imgsz 128, {options.epochs} epochs, batch 16, "
          f"cpu, {cores} threads")
    print(f"local executor (child process, POST -> done): {local_s:8.2f} s")
    print(f"Ray executor (one-node cluster, POST -> done): {ray_s:8.2f} s")
    print(f"ratio Ray / local:                             {ray_s / local_s:8.3f}  (target <= 1.05)")


def _wait_connected(server: ServerProcess) -> None:
    for _ in range(120):
        if httpx.get(f"{server.url}/api/v1/health", timeout=5).json()["cluster"] == "connected":
            return
        time.sleep(0.5)
    raise SystemExit("the server did not connect to the Ray cluster")


if __name__ == "__main__":
    main()
