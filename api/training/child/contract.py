"""The typed contract between the server and a training child: what to run (RunSpec) and what it reports.

Both sides import this module and nothing else of each other. Messages are frozen dataclasses sent over a
multiprocessing pipe (pickled); the server dispatches them with `match`, so a kind it does not know is an
error it logs, never a silent drop."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

RunKind = Literal["train", "evaluate"]
TaskName = Literal["detect", "classify"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSpec:
    """Everything a child needs to train (kind 'train') or validate (kind 'evaluate'); built in one place,
    `api/training/specs.py`, and checked here so a bad spec fails in the server, not in the child."""

    session_id: int
    kind: RunKind
    task: TaskName
    model: str  # an architecture YAML name or a weights path
    architecture: str
    data: str  # the dataset YAML (detect) or folder (classify) in the run dir
    run_dir: str
    config_dir: str
    device: str
    epochs: int
    imgsz: int
    batch: int
    resume: str | None = None  # a checkpoint to resume from
    lr0: float | None = None
    patience: int | None = None
    seed: int | None = None
    workers: int | None = None
    amp: bool = True
    nice: int = 0
    memory_limit_mb: int | None = None
    # evaluate only
    split: str | None = None
    conf: float | None = None
    iou: float | None = None

    def __post_init__(self) -> None:
        problems = [name for name, ok in (
            ("epochs", self.epochs >= 1), ("imgsz", 32 <= self.imgsz <= 8192), ("batch", self.batch >= 1 or self.batch == -1),
            ("kind", self.kind in ("train", "evaluate")), ("task", self.task in ("detect", "classify")),
            ("split", self.kind == "train" or self.split is not None),
            ("nice", 0 <= self.nice <= 19), ("device", bool(self.device)),
        ) if not ok]
        if problems:
            raise ValueError(f"invalid RunSpec for session {self.session_id}: {', '.join(problems)}")

    def train_args(self) -> dict[str, object]:
        """Ultralytics `model.train()` keyword arguments for a fresh (not resumed) run."""
        args: dict[str, object] = {
            "data": self.data, "epochs": self.epochs, "imgsz": self.imgsz, "batch": self.batch, "device": self.device,
            "project": self.run_dir, "name": "train", "exist_ok": True, "plots": False, "verbose": True, "amp": self.amp,
        }
        optional = {"lr0": self.lr0, "patience": self.patience, "seed": self.seed, "workers": self.workers}
        args.update({key: value for key, value in optional.items() if value is not None})
        return args


def _now() -> float:
    return time.time()


@dataclass(frozen=True, slots=True, kw_only=True)
class Started:
    epochs: int
    start_epoch: int
    batches: int
    device: str
    save_dir: str
    ts: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    epoch: int
    batch: int
    batches: int
    losses: dict[str, float]
    ts: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True, kw_only=True)
class Epoch:
    epoch: int
    epochs: int
    metrics: dict[str, float]
    fitness: float | None
    ts: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True, kw_only=True)
class FinalMetrics:
    """Ultralytics' last validation, of best.pt, after the last epoch."""

    metrics: dict[str, float]
    ts: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    path: str
    epoch: int
    ts: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True, kw_only=True)
class Log:
    level: str
    message: str
    ts: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """A training run ended by itself or by a cooperative stop; `best` is the weights to register."""

    best: str
    stopped: bool
    names: dict[int, str]
    epochs_done: int
    ts: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True, kw_only=True)
class Evaluated:
    """An evaluation's numbers: overall and per class."""

    metrics: dict[str, float]
    per_class: dict[str, dict[str, float]]
    ts: float = field(default_factory=_now)


@dataclass(frozen=True, slots=True, kw_only=True)
class Failed:
    message: str
    traceback: str
    ts: float = field(default_factory=_now)


Message = Started | Batch | Epoch | FinalMetrics | Checkpoint | Log | Result | Evaluated | Failed
