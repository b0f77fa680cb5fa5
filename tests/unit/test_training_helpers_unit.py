from __future__ import annotations

import json
from pathlib import Path

from api.registry.datasets.schemas import DatasetInfo, DatasetRead
from api.registry.datasets.shapes import generate_detection
from api.training.executors.local import describe_exit
from api.training.manager import default_imgsz
from api.training.workspace import prepare_run_dir


def dataset_with(size: list[int] | None) -> DatasetRead:
    info = DatasetInfo(images={"train": 1}, instances={}, image_size_max=size, size_bytes=1)
    return DatasetRead(id=1, name="d", task="detect", source="upload", classes=["a"], info=info, created_at=0)


def test_default_imgsz_fits_the_images() -> None:
    assert default_imgsz(dataset_with([128, 96])) == 128
    assert default_imgsz(dataset_with([100, 20])) == 128
    assert default_imgsz(dataset_with([1920, 1080])) == 640
    assert default_imgsz(dataset_with(None)) == 640


def test_exit_descriptions() -> None:
    assert "SIGKILL" in describe_exit(-9) and "out of memory" in describe_exit(-9)
    assert describe_exit(1) == "the training process exited with code 1"


def test_run_dir_gets_links_and_a_server_written_yaml(tmp_path: Path) -> None:
    dataset = tmp_path / "dataset"
    generate_detection(dataset, train=3, val=2)
    (dataset / "labels" / "train.cache").write_text("stale")
    data = prepare_run_dir(tmp_path / "run", dataset_dir=dataset, task="detect", classes=["square", "circle", "tri"])
    written = json.loads(Path(data).read_text())
    assert set(written) == {"path", "train", "val", "names"}
    assert written["names"] == {"0": "square", "1": "circle", "2": "tri"}
    linked = tmp_path / "run" / "data" / "images" / "train" / "00000.jpg"
    assert linked.stat().st_ino == (dataset / "images" / "train" / "00000.jpg").stat().st_ino
    assert not (tmp_path / "run" / "data" / "labels" / "train.cache").exists()
