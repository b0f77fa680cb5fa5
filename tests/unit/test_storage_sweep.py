"""The start-up sweep removes what a kill -9 can leave (staging files, files renamed into place whose row never
committed) and reports rows whose files are gone, touching nothing that a row owns."""

from __future__ import annotations

import json
import time
from pathlib import Path

from api.core.database import Database
from api.core.storage_sweep import sweep_storage


def touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


async def insert_rows(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO datasets (id, name, task, source, path, classes, info, created_at) "
                           "VALUES (1, 'd', 'detect', 'upload', '1', '[]', '{}', 0)")
        await conn.execute("INSERT INTO models (id, name, task, architecture, classes, metrics, source, path, "
                           "size_bytes, sha256, created_at) VALUES (1, 'm', 'detect', 'yolov8n', '[]', '{}', 'upload',"
                           " '1.pt', 1, 'x', 0), (2, 'gone', 'detect', 'yolov8n', '[]', '{}', 'upload', '2.pt', 1, 'y', 0)")
        await conn.execute("INSERT INTO recognitions (id, created_at, model_id, params, images, verdict, timings) "
                           "VALUES (1, ?, 1, '{}', ?, 'unchecked', '{}')", (time.time(), json.dumps([{}])))
        await conn.execute("INSERT INTO sessions (id, name, task, model, dataset_id, config, status, created_at, epochs)"
                           " VALUES (1, 's', 'detect', 'yolov8n.yaml', 1, '{}', 'completed', 0, 1)")


async def test_debris_and_orphans_go_owned_files_stay_and_missing_files_are_reported(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "server.db")
    try:
        await insert_rows(db)
        owned = [touch(tmp_path / "datasets/1/images/train/a.jpg"), touch(tmp_path / "models/1.pt"),
                 touch(tmp_path / "models/1.onnx"), touch(tmp_path / "recognitions/1/0.original.jpg"),
                 touch(tmp_path / "recognitions/1/0.jpg"), touch(tmp_path / "runs/1/weights/resume.pt"),
                 touch(tmp_path / "ultralytics/settings.json")]
        left = [touch(tmp_path / "datasets/.uploads/abc.zip"), touch(tmp_path / "datasets/.staging-9f/extracted/x"),
                touch(tmp_path / "datasets/2/images/train/a.jpg"),  # renamed into place, row never committed
                touch(tmp_path / "models/.uploads/abc.pt"), touch(tmp_path / "models/.staging-session-4.pt"),
                touch(tmp_path / "models/.export-1/w.onnx"), touch(tmp_path / "models/3.pt"),
                touch(tmp_path / "recognitions/.staging-1-2/0.original.jpg"), touch(tmp_path / "recognitions/5/0.x"),
                touch(tmp_path / "recognitions/1/0.140.part"), touch(tmp_path / "runs/8/weights/last.pt")]

        report = await sweep_storage(db, tmp_path)

        assert all(path.exists() for path in owned)
        assert not any(path.exists() for path in left)
        assert not (tmp_path / "datasets/2").exists() and not (tmp_path / "runs/8").exists()
        assert "datasets/.uploads" in report.removed and "models/3.pt" in report.removed
        assert report.missing == ["models 2"]
        assert (await sweep_storage(db, tmp_path)).removed == []  # nothing left the second time
    finally:
        await db.close()


async def test_an_empty_data_dir_is_fine(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "server.db")
    try:
        report = await sweep_storage(db, tmp_path)
        assert report.removed == [] and report.missing == []
    finally:
        await db.close()
