"""Uploaded weights never run code (issue 14, finding 1): crafted checkpoints are refused without their command
ever running; real checkpoints still load and recognize identically; weights registered before the check are
re-validated at start-up and quarantined when they fail."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
import torch

from api.core.offline import apply_offline_environment
from api.core.settings import Settings
from api.registry.models import safe_load
from api.registry.models.inspection import normalise
from tests.helpers import LiveServer, assert_error, make_settings
from tests.hostile_weights import all_payloads

pytestmark = pytest.mark.training


def saved_by_yolo(work: Path) -> Path:
    """A checkpoint as `YOLO(...).save` writes it (untrained, built from a YAML: no weights are downloaded)."""
    apply_offline_environment(work / "ultralytics")  # this test process may not have started a server yet
    from ultralytics import YOLO

    path = work / "yolo-saved.pt"
    YOLO("yolov8n.yaml").save(str(path))
    return path


async def test_crafted_checkpoints_run_nothing_and_get_422(live_server: LiveServer, tmp_path: Path) -> None:
    payloads = all_payloads(tmp_path, await asyncio.to_thread(saved_by_yolo, tmp_path))
    async with live_server.client() as http:
        for name, (data, marker) in payloads.items():
            response = await http.post("/models", files={"file": (f"{name}.pt", data, "application/octet-stream")})
            assert_error(response, 422, "invalid_model")
            assert not marker.exists(), f"payload {name} ran"
        assert (await http.get("/models")).json()["total"] == 0
    assert list((live_server.settings.data_dir / "models").glob("*.pt")) == []


def test_the_unpickler_refuses_them_even_without_the_static_checks(tmp_path: Path, monkeypatch) -> None:
    """The static checks are only a friendly early 422: the weights_only unpickler is what enforces."""
    monkeypatch.setattr(safe_load, "check_structure", lambda path: None)
    for name, (data, marker) in all_payloads(tmp_path, saved_by_yolo(tmp_path)).items():
        if name in "ab":  # legacy format: torch.load(weights_only=True) cannot even read it
            continue
        path = tmp_path / f"{name}.pt"
        path.write_bytes(data)
        with pytest.raises(Exception) as refused:
            normalise(safe_load.load_untrusted(path), tmp_path / "out.pt")
        assert getattr(refused.value, "code", None) == "invalid_model", refused.value
        assert not marker.exists(), f"payload {name} ran"


async def test_real_checkpoints_load_and_recognize_identically(live_server: LiveServer, trained_weights: Path,
                                                               tmp_path: Path) -> None:
    """The run's own best.pt and a YOLO(...).save file are accepted; the stored copy predicts exactly the same."""
    from ultralytics import YOLO

    raw_best = next(trained_weights.parents[1].glob("runs/*/train/weights/best.pt"))
    photos = sorted((live_server.settings.data_dir / "datasets/1/images/val").glob("*.jpg"))[:3]
    async with live_server.client() as http:
        for source in (raw_best, await asyncio.to_thread(saved_by_yolo, tmp_path)):
            response = await http.post("/models", files={"file": (source.name, source.read_bytes())})
            assert response.status_code == 201, response.text
            model = response.json()
            assert model["validated"] and model["quarantine_reason"] is None
            stored = live_server.settings.data_dir / "models" / f"{model['id']}.pt"

            def predictions(path: Path) -> list[torch.Tensor]:
                return [r.boxes.data for r in YOLO(str(path)).predict([str(p) for p in photos], conf=0.001,
                                                                      verbose=False)]

            original, copy = await asyncio.to_thread(predictions, source), await asyncio.to_thread(predictions, stored)
            assert all(torch.equal(a, b) for a, b in zip(original, copy, strict=True))
        recognized = await http.post("/recognitions", files=[("images", ("p.jpg", photos[0].read_bytes()))],
                                     data={"model": str(model["id"])}, timeout=60)
        assert recognized.status_code == 201, recognized.text


def _register_behind_the_servers_back(settings: Settings, data: bytes, *, name: str) -> int:
    """A row and file as an older server version would have left them (validated_at NULL)."""
    models = settings.data_dir / "models"
    models.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(settings.database_path) as db:
        cursor = db.execute(
            "INSERT INTO models (name, task, architecture, classes, metrics, source, path, size_bytes, sha256,"
            " created_at) VALUES (?, 'detect', 'yolov8n', '[\"a\"]', '{}', 'upload', '', ?, 'x', ?)",
            (name, len(data), time.time()))
        model_id = int(cursor.lastrowid or 0)
        db.execute("UPDATE models SET path = ? WHERE id = ?", (f"{model_id}.pt", model_id))
    (models / f"{model_id}.pt").write_bytes(data)
    return model_id


async def test_weights_registered_before_the_check_are_revalidated_at_start_up(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    payloads = all_payloads(tmp_path, await asyncio.to_thread(saved_by_yolo, tmp_path))
    with LiveServer(settings):  # creates the database at the current schema
        pass
    evil_id = _register_behind_the_servers_back(settings, payloads["d"][0], name="evil")
    good_id = _register_behind_the_servers_back(settings, (tmp_path / "yolo-saved.pt").read_bytes(), name="good")
    with LiveServer(settings) as server:
        async with server.client() as http:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                models = {m["id"]: m for m in (await http.get("/models")).json()["items"]}
                if all(m["validated"] for m in models.values()):
                    break
                await asyncio.sleep(0.5)
            assert models[evil_id]["quarantine_reason"] and models[good_id]["quarantine_reason"] is None
            photo = next((settings.data_dir / "datasets/1/images/val").glob("*.jpg")).read_bytes()
            refused = await http.post("/recognitions", files=[("images", ("p.jpg", photo))],
                                      data={"model": str(evil_id)}, timeout=60)
            assert_error(refused, 409, "model_quarantined")
            assert_error(await http.get(f"/models/{evil_id}/download"), 409, "model_quarantined")
            accepted = await http.post("/recognitions", files=[("images", ("p.jpg", photo))],
                                       data={"model": str(good_id)}, timeout=60)
            assert accepted.status_code == 201, accepted.text
            assert (await http.delete(f"/models/{evil_id}")).status_code == 204
    assert not payloads["d"][1].exists()
