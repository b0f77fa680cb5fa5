"""The run directory a training child works in: its own view of the dataset and a server-written data.yaml."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from api.registry.datasets.schemas import Task

_DETECT_FOLDERS = ("images", "labels")


def _link_tree(source: Path, target: Path) -> None:
    """Hard-link every file (copy across devices): Ultralytics resolves symlinks and would write its label
    caches into the dataset store; with links the caches land in the run directory."""
    for folder, _dirs, files in os.walk(source):
        destination = target / Path(folder).relative_to(source)
        destination.mkdir(parents=True, exist_ok=True)
        for name in files:
            if name.endswith(".cache"):
                continue
            src, dst = Path(folder) / name, destination / name
            if dst.exists():
                continue
            try:
                os.link(src, dst)
            except OSError:
                shutil.copyfile(src, dst)


def prepare_run_dir(run_dir: Path, *, dataset_dir: Path, task: Task, classes: list[str]) -> str:
    """Lay out run_dir/data and return what to pass as Ultralytics' `data` argument."""
    data_dir = run_dir / "data"
    if task == "classify":
        for split in ("train", "val", "test"):
            if (dataset_dir / split).is_dir():
                _link_tree(dataset_dir / split, data_dir / split)
        return str(data_dir)
    splits = {}
    for split in ("train", "val", "test"):
        if (dataset_dir / "images" / split).is_dir():
            for folder in _DETECT_FOLDERS:
                if (dataset_dir / folder / split).is_dir():
                    _link_tree(dataset_dir / folder / split, data_dir / folder / split)
            splits[split] = f"images/{split}"
    # Only path/train/val/test/names: nothing else from an uploaded yaml (no `download:`) ever reaches Ultralytics.
    data_yaml = {"path": str(data_dir.resolve()), **splits, "names": dict(enumerate(classes))}
    (run_dir / "data.yaml").write_text(json.dumps(data_yaml, indent=2))
    return str(run_dir / "data.yaml")
