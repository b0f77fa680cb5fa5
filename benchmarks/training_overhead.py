"""Wall time of one training config run directly with Ultralytics (fresh process) vs through the server.

    .venv/bin/python benchmarks/training_overhead.py            # ~1 minute per side
    .venv/bin/python benchmarks/training_overhead.py --quick    # smoke run, 2 epochs

Both sides: fresh process (interpreter, torch and Ultralytics imports included), same data, same
arguments, same thread setting (the server's child uses every core; so does the direct run here).
The server side is timed from POST /sessions to the session reading `completed`, so it includes
queueing, spawning, metric/log ingest and registering the model.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.training.child.contract import RunSpec  # noqa: E402
from api.training.workspace import prepare_run_dir  # noqa: E402
from benchmarks.common import KEY, time_session  # noqa: E402
from tests.helpers import ServerProcess  # noqa: E402

DIRECT = """
import json, os, sys, time
from pathlib import Path
from api.core.offline import apply_offline_environment
config = json.loads(sys.argv[1])
apply_offline_environment(Path(config["config_dir"]))
from ultralytics import YOLO
from api.training.child.runner import _use_all_cores
model = YOLO(config["model"], task="detect")
model.add_callback("on_train_start", _use_all_cores)
model.train(**config["args"])
"""


def run_direct(work: Path, dataset_dir: Path, args: dict) -> float:
    run_dir = work / "direct"
    data = prepare_run_dir(run_dir, dataset_dir=dataset_dir, task="detect", classes=["square", "circle", "triangle"])
    config = {"model": "yolov8n.yaml", "config_dir": str(work / "ultralytics"),
              "args": RunSpec(session_id=0, kind="train", task="detect", model="yolov8n.yaml", architecture="yolov8n",
                              data=data, run_dir=str(run_dir), config_dir=str(work / "ultralytics"),
                              **args).train_args()}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", DIRECT, json.dumps(config)], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def run_server(server: ServerProcess, args: dict) -> float:
    body = {"task": "detect", "model": "yolov8n.yaml", "dataset": 1, "epochs": args["epochs"],
            "imgsz": args["imgsz"], "batch": args["batch"], "device": args["device"]}
    return time_session(server.url, body, server.output())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--imgsz", type=int, default=128)
    parser.add_argument("--images", type=int, default=160, help="train images of the generated shapes dataset")
    parser.add_argument("--quick", action="store_true", help="2 epochs, 24 images: a smoke run")
    options = parser.parse_args()
    if options.quick:
        options.epochs, options.images = 2, 24
    args = {"epochs": options.epochs, "imgsz": options.imgsz, "batch": 16, "device": "cpu"}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server = ServerProcess(work / "data", "--api-keys", KEY, "--log-level", "warning",
                               env={"SHAPES_TRAIN_IMAGES": str(options.images)})
        try:
            server.start()
            direct = run_direct(work, work / "data" / "datasets" / "1", args)
            through_server = run_server(server, args)
        finally:
            server.stop()
    print(f"config: yolov8n.yaml, shapes {options.images} train images, imgsz {options.imgsz}, "
          f"{options.epochs} epochs, batch 16, cpu")
    print(f"direct Ultralytics (fresh process): {direct:8.2f} s")
    print(f"through the server (POST -> done):  {through_server:8.2f} s")
    print(f"ratio server / direct:              {through_server / direct:8.3f}  (target <= 1.03)")


if __name__ == "__main__":
    main()
