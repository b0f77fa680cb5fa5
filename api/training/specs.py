"""The one place a RunSpec is built: from a session's record, the device it got and its prepared run dir."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from api.registry.datasets.service import DatasetRegistry
from api.training.child.contract import RunSpec
from api.training.records import SessionRecord
from api.training.workspace import prepare_run_dir


@dataclass(frozen=True, slots=True)
class SpecBuilder:
    datasets: DatasetRegistry
    runs_root: Path
    config_dir: Path
    child_nice: int = 0
    memory_limit_mb: int | None = None

    def run_dir(self, session_id: int) -> Path:
        return self.runs_root / str(session_id)

    async def build(self, record: SessionRecord, device: str) -> RunSpec:
        if record.dataset_id is None:
            raise ValueError("its dataset was deleted")
        dataset = await self.datasets.get(record.dataset_id)
        run_dir = self.run_dir(record.id)
        data = await asyncio.to_thread(prepare_run_dir, run_dir, dataset_dir=self.datasets.path_of(dataset),
                                       task=dataset.task, classes=dataset.classes)
        resume = record.checkpoint if record.checkpoint and Path(record.checkpoint).is_file() else None
        config = record.config
        return RunSpec(
            session_id=record.id, kind=record.kind, task=record.task, model=config.model,
            architecture=config.architecture, data=data, run_dir=str(run_dir), config_dir=str(self.config_dir),
            device=device, epochs=config.epochs, imgsz=config.imgsz, batch=config.batch, resume=resume,
            lr0=config.lr0, patience=config.patience, seed=config.seed, nice=self.child_nice,
            memory_limit_mb=self.memory_limit_mb if device == "cpu" else None,
            split=config.split, conf=config.conf, iou=config.iou,
        )
