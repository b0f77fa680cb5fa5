"""Entry point of a training child process (spawned): it runs one RunSpec and reports, nothing else."""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from api.core.memory import cap_address_space
from api.core.offline import apply_offline_environment
from api.training.child.channel import Channel, LineStream
from api.training.child.contract import Failed, Result, RunSpec
from api.training.child.evaluator import evaluate
from api.training.child.reporter import Reporter


def _watch_parent(parent_pid: int, interval_s: float = 0.5) -> None:
    """Exit as soon as the server is gone, so no orphan keeps a GPU."""
    while True:
        time.sleep(interval_s)
        if os.getppid() != parent_pid:
            os._exit(3)


def _use_all_cores(trainer: Any) -> None:
    # Ultralytics leaves one core idle; on a small box that is half the machine.
    import torch

    if str(trainer.device) == "cpu":  # a cluster worker gets OMP_NUM_THREADS from Ray: the CPUs it was given
        torch.set_num_threads(max(1, int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1)))


def _cap_memory(limit_mb: int) -> None:
    """Capped after the heavy imports; its DataLoader workers inherit the cap. CPU runs only: CUDA reserves huge
    address ranges."""
    import torch  # noqa: F401
    import ultralytics  # noqa: F401

    cap_address_space(limit_mb)


def _near_memory_cap(margin: int = 64 * 2**20) -> bool:
    """Whether the process came within `margin` of its cap: allocation failures surface as many different
    errors (MemoryError, oneDNN's "could not create a primitive", ...), the peak says what happened."""
    import resource

    cap = resource.getrlimit(resource.RLIMIT_AS)[0]
    if cap == resource.RLIM_INFINITY:
        return False
    with open("/proc/self/status") as status:
        peak_kb = next((int(line.split()[1]) for line in status if line.startswith("VmPeak:")), 0)
    return peak_kb * 1024 + margin >= cap


def train(spec: RunSpec, channel: Channel, stop_event: Any) -> Result:
    from ultralytics import YOLO

    run_dir = Path(spec.run_dir)
    resume = spec.resume
    model = YOLO(resume or spec.model, task=spec.task)
    reporter = Reporter(channel, stop_event.is_set, resume_checkpoint=run_dir / "resume.pt")
    for event, callback in reporter.callbacks().items():
        model.add_callback(event, callback)
    model.add_callback("on_train_start", _use_all_cores)
    if resume:
        channel.log(f"resuming from {resume}")
        # save_dir: on another cluster node the checkpoint's own save_dir may not exist
        model.train(resume=True, data=spec.data, device=spec.device, save_dir=str(run_dir / "train"))
    else:
        model.train(**spec.train_args())
    trainer = model.trainer
    best = Path(trainer.best) if Path(trainer.best).is_file() else Path(trainer.last)
    return Result(best=str(best), stopped=reporter.stop_requested,
                  names={int(k): str(v) for k, v in (model.names or {}).items()}, epochs_done=int(trainer.epoch) + 1)


def main(spec: RunSpec, connection: Any, stop_event: Any, parent_pid: int) -> None:
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="parent-watchdog").start()
    if spec.nice:  # below the server: a busy trainer must not slow the API, and loses nothing when it is idle
        os.nice(spec.nice)
    channel = Channel(connection)
    run_dir = Path(spec.run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    os.chdir(run_dir)  # anything written to a relative path lands in the run directory
    sys.stdout = LineStream(channel, "INFO")
    sys.stderr = LineStream(channel, "WARNING")
    apply_offline_environment(Path(spec.config_dir))
    if spec.memory_limit_mb:
        _cap_memory(spec.memory_limit_mb)
    exit_code = 0
    try:
        channel.send(evaluate(spec) if spec.kind == "evaluate" else train(spec, channel, stop_event))
    except BaseException as exc:  # report everything, KeyboardInterrupt included
        reason = f"{type(exc).__name__}: {exc}"
        if spec.memory_limit_mb and (isinstance(exc, MemoryError) or _near_memory_cap()):
            reason = f"out of memory: the run needed more than its {spec.memory_limit_mb} MB ({reason})"
        channel.send(Failed(message=reason[:2000], traceback=traceback.format_exc()))
        exit_code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        connection.close()
    os._exit(exit_code)  # skip interpreter teardown: dataloader threads must not delay the exit
