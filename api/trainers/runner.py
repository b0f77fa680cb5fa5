"""Entry point of a training child process (spawned): it trains and reports, nothing else.

`config` keys: task, model (architecture YAML or weights path), data, epochs, imgsz, batch, device,
run_dir, config_dir, and optionally resume (checkpoint path), lr0, patience, seed, workers.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from api.trainers.channel import Channel, LineStream
from api.trainers.evaluator import evaluate
from api.trainers.offline import apply_offline_environment
from api.trainers.reporter import Reporter

_OPTIONAL_ARGS = ("lr0", "patience", "seed", "workers")


def _watch_parent(parent_pid: int, interval_s: float = 0.5) -> None:
    """Exit as soon as the server is gone, so no orphan keeps a GPU."""
    while True:
        time.sleep(interval_s)
        if os.getppid() != parent_pid:
            os._exit(3)


def _use_all_cores(trainer: Any) -> None:
    # Ultralytics leaves one core idle; on a small box that is half the machine.
    import torch

    if str(trainer.device) == "cpu":
        torch.set_num_threads(max(1, os.cpu_count() or 1))


def train_args(config: dict[str, Any], run_dir: Path) -> dict[str, Any]:
    args = {
        "data": config["data"], "epochs": config["epochs"], "imgsz": config["imgsz"], "batch": config["batch"],
        "device": config["device"], "project": str(run_dir), "name": "train", "exist_ok": True, "plots": False,
        "verbose": True, "amp": config.get("amp", True),
    }
    args.update({key: config[key] for key in _OPTIONAL_ARGS if config.get(key) is not None})
    return args


def train(config: dict[str, Any], channel: Channel, stop_event: Any) -> dict[str, Any]:
    from ultralytics import YOLO

    run_dir = Path(config["run_dir"])
    resume = config.get("resume")
    model = YOLO(resume or config["model"], task=config["task"])
    reporter = Reporter(channel, stop_event.is_set, resume_checkpoint=run_dir / "resume.pt")
    for event, callback in reporter.callbacks().items():
        model.add_callback(event, callback)
    model.add_callback("on_train_start", _use_all_cores)
    if resume:
        channel.log(f"resuming from {resume}")
        model.train(resume=True, data=config["data"], device=config["device"])
    else:
        model.train(**train_args(config, run_dir))
    trainer = model.trainer
    best = Path(trainer.best) if Path(trainer.best).is_file() else Path(trainer.last)
    return {
        "best": str(best),
        "stopped": reporter.stop_requested,
        "names": {int(k): str(v) for k, v in (model.names or {}).items()},
        "epochs_done": int(trainer.epoch) + 1,
    }


def main(config: dict[str, Any], connection: Any, stop_event: Any, parent_pid: int) -> None:
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="parent-watchdog").start()
    if config.get("nice"):  # below the server: a busy trainer must not slow the API, and loses nothing when it is idle
        os.nice(int(config["nice"]))
    channel = Channel(connection)
    run_dir = Path(config["run_dir"])
    run_dir.mkdir(parents=True, exist_ok=True)
    os.chdir(run_dir)  # anything written to a relative path lands in the run directory
    sys.stdout = LineStream(channel, "INFO")
    sys.stderr = LineStream(channel, "WARNING")
    apply_offline_environment(Path(config["config_dir"]))
    exit_code = 0
    try:
        if config.get("kind") == "evaluate":
            channel.send("result", stopped=False, **evaluate(config))
        else:
            channel.send("result", **train(config, channel, stop_event))
    except BaseException as exc:  # report everything, KeyboardInterrupt included
        channel.send("error", message=f"{type(exc).__name__}: {exc}"[:2000], traceback=traceback.format_exc())
        exit_code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        connection.close()
    os._exit(exit_code)  # skip interpreter teardown: dataloader threads must not delay the exit
