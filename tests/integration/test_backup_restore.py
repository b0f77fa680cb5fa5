"""`run_api.py backup` while a run trains, `restore` into a fresh data dir, and a server on it that has everything
acknowledged before the backup began; plus what both refuse (and then write nothing)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.core import backup as backup_module
from api.core.backup import MANIFEST, BackupRefused, backup, read_manifest, restore
from api.core.database import Database
from tests.archives import detection_folder, zip_folder
from tests.durability import assert_consistent
from tests.helpers import ROOT, ServerProcess
from tests.training_helpers import create_session, wait_for, wait_status

KEY = "tk_backup-test-key-0123456789"


def run_api(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "run_api.py"), *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def integrity(database: Path) -> str:
    connection = sqlite3.connect(database)
    try:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        connection.close()


def files_under(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


async def everything(http: httpx.AsyncClient) -> dict[str, Any]:
    """What the API shows: sessions with their metrics, models with their weights' hash, datasets, recognitions."""
    listed = {area: (await http.get(f"/{area}", params={"limit": 100})).json()["items"]
              for area in ("sessions", "models", "datasets", "recognitions")}
    state: dict[str, Any] = {area: {item["id"]: item for item in items} for area, items in listed.items()}
    state["metrics"] = {session_id: {(p["key"], p["step"]): p["value"] for p in
                                     (await http.get(f"/sessions/{session_id}/metrics", params={"limit": 1000})).json()["items"]}
                        for session_id in state["sessions"]}
    state["weights"] = {model_id: hashlib.sha256((await http.get(f"/models/{model_id}/download")).content).hexdigest()
                        for model_id in state["models"]}
    return state


@pytest.mark.slow
@pytest.mark.training
@pytest.mark.timeout(600)  # two servers and two runs; the default 300 s is tight on 2 busy cores
async def test_backup_while_a_run_trains_then_restore_has_everything_acknowledged_before(tmp_path: Path) -> None:
    data, copy, restored = tmp_path / "data", tmp_path / "backup", tmp_path / "restored"
    server = ServerProcess(data, "--api-keys", KEY).start()
    try:
        async with httpx.AsyncClient(base_url=server.url + "/api/v1", headers={"X-API-Key": KEY}, timeout=60) as http:
            upload = await http.post("/datasets", files={"file": ("tools.zip", zip_folder(detection_folder(tmp_path / "src")))})
            assert upload.status_code == 201, upload.text
            first = await wait_status(http, (await create_session(http))["id"], "completed", "failed", timeout=240)
            assert first["status"] == "completed", first["error_tail"]
            photo = next((tmp_path / "src" / "images" / "val").iterdir()).read_bytes()
            recognized = await http.post("/recognitions", files={"images": ("a.jpg", photo)},
                                         data={"model": str(first["result_model_id"])})
            assert recognized.status_code == 201, recognized.text
            running = await create_session(http, epochs=300, name="long run")
            await wait_for(http, running["id"], lambda s: s["status"] == "running" and s["progress"]["epoch"] >= 1,
                           timeout=240, what="a finished epoch")
            for _ in range(240):  # the epoch's metrics reach the database a moment after its progress does
                if (await http.get(f"/sessions/{running['id']}/metrics", params={"limit": 1})).json()["total"]:
                    break
                await asyncio.sleep(0.5)
            before = await everything(http)

            started = time.monotonic()
            made = await asyncio.to_thread(run_api, "backup", "--data-dir", data, "--to", copy)
            backup_s = time.monotonic() - started
            assert made.returncode == 0, made.stderr
            assert (await http.get(f"/sessions/{running['id']}")).json()["status"] == "running"  # trained throughout
    finally:
        server.stop()

    manifest = read_manifest(copy)
    assert backup_s < 60 and any(entry.path.startswith(f"runs/{running['id']}/") for entry in manifest.files)
    assert not any(path.startswith(f"runs/{running['id']}/data/") for path in files_under(copy))  # the dataset's links
    done = await asyncio.to_thread(run_api, "restore", "--from", copy, "--data-dir", restored)
    assert done.returncode == 0, done.stderr
    assert integrity(restored / "server.db") == "ok"
    assert {entry.path: (entry.size, entry.sha256) for entry in manifest.files} == {
        path: ((restored / path).stat().st_size, sha256(restored / path)) for path in files_under(restored)}

    again = ServerProcess(restored, "--api-keys", KEY, env={"AUTO_RESUME": "false"}).start()
    try:
        async with httpx.AsyncClient(base_url=again.url + "/api/v1", headers={"X-API-Key": KEY}, timeout=60) as http:
            after = await everything(http)
    finally:
        again.stop()
    for area in ("models", "datasets", "recognitions", "weights"):
        assert after[area] == before[area], area
    assert after["sessions"][first["id"]] == before["sessions"][first["id"]]
    assert after["sessions"][running["id"]]["status"] == "interrupted"  # it was running in the snapshot
    for session_id, points in before["metrics"].items():
        assert points and points.items() <= after["metrics"][session_id].items(), session_id
    assert integrity(restored / "server.db") == "ok"
    assert_consistent(restored)


async def make_data_dir(data_dir: Path) -> None:
    """Rows for dataset 1, model 1, recognition 1 and session 1, their files, and files that no row owns."""
    db = await Database.open(data_dir / "server.db")
    try:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO datasets (id, name, task, source, path, classes, info, created_at) "
                               "VALUES (1, 'd', 'detect', 'upload', '1', '[]', '{}', 0)")
            await conn.execute("INSERT INTO models (id, name, task, architecture, classes, metrics, source, path, "
                               "size_bytes, sha256, created_at) VALUES (1, 'm', 'detect', 'yolov8n', '[]', '{}', "
                               "'upload', '1.pt', 1, 'x', 0)")
            await conn.execute("INSERT INTO recognitions (id, created_at, model_id, params, images, verdict, timings) "
                               "VALUES (1, 0, 1, '{}', '[{}]', 'unchecked', '{}')")
            await conn.execute("INSERT INTO sessions (id, name, task, model, dataset_id, config, status, created_at, "
                               "epochs) VALUES (1, 's', 'detect', 'yolov8n.yaml', 1, '{}', 'completed', 0, 1)")
    finally:
        await db.close()
    for name, body in {"datasets/1/images/train/a.jpg": b"image", "datasets/1/labels/train/a.txt": b"0 .5 .5 .1 .1",
                       "models/1.pt": b"weights", "models/1.onnx": b"onnx", "recognitions/1/0.original.jpg": b"photo",
                       "runs/1/weights/best.pt": b"best", "runs/1/data/images/train/a.jpg": b"image",
                       "models/2.pt": b"no row", "datasets/7/x.jpg": b"no row", "models/.uploads/u.pt": b"staging",
                       "recognitions/1/0.123.part": b"cut off", "ultralytics/settings.json": b"{}"}.items():
        (data_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / name).write_bytes(body)


OWNED = {"server.db", "datasets/1/images/train/a.jpg", "datasets/1/labels/train/a.txt", "models/1.pt", "models/1.onnx",
         "recognitions/1/0.original.jpg", "runs/1/weights/best.pt"}


async def test_backup_copies_only_what_rows_of_the_snapshot_own_and_restore_gives_it_back(tmp_path: Path) -> None:
    await make_data_dir(tmp_path / "data")
    (tmp_path / "data" / "models" / "3.pt").symlink_to("/etc/hostname")  # never followed out of the data dir
    db = await Database.open(tmp_path / "data" / "server.db")  # open, as a running server holds it (WAL)
    try:
        await db.execute("INSERT INTO models (id, name, task, architecture, classes, metrics, source, path, size_bytes, "
                         "sha256, created_at) VALUES (3, 'link', 'detect', 'yolov8n', '[]', '{}', 'upload', '3.pt', 1, "
                         "'x', 0)")
        manifest = backup(database=tmp_path / "data" / "server.db", data_dir=tmp_path / "data", target=tmp_path / "b")
    finally:
        await db.close()

    assert {entry.path for entry in manifest.files} == OWNED and manifest.skipped == ["models/3.pt"]
    assert files_under(tmp_path / "b") == OWNED | {MANIFEST}
    restore(source=tmp_path / "b", data_dir=tmp_path / "restored")
    assert files_under(tmp_path / "restored") == OWNED
    for path in OWNED - {"server.db"}:
        assert (tmp_path / "restored" / path).read_bytes() == (tmp_path / "data" / path).read_bytes()
    connection = sqlite3.connect(tmp_path / "restored" / "server.db")
    assert connection.execute("SELECT id FROM models ORDER BY id").fetchall() == [(1,), (3,)]
    connection.close()


async def test_files_that_vanish_or_change_while_copied_do_not_fail_the_backup(tmp_path: Path, monkeypatch) -> None:
    """A running training replaces and rewrites files in its run dir: the copy is what was read, and says so."""
    await make_data_dir(tmp_path / "data")
    listed = backup_module._owned_files

    def racing(data_dir: Path, folder: str, ids: set[int]) -> Any:
        for relative in listed(data_dir, folder, ids):
            if relative.name == "best.pt":
                (data_dir / relative).unlink()
            elif relative.name == "a.txt":
                (data_dir / relative).write_bytes(b"rewritten while it was backed up")
            yield relative

    monkeypatch.setattr(backup_module, "_owned_files", racing)
    manifest = backup(database=tmp_path / "data" / "server.db", data_dir=tmp_path / "data", target=tmp_path / "b")

    assert manifest.skipped == ["runs/1/weights/best.pt"]
    rewritten = next(entry for entry in manifest.files if entry.path == "datasets/1/labels/train/a.txt")
    assert rewritten.sha256 == hashlib.sha256(b"rewritten while it was backed up").hexdigest()
    restore(source=tmp_path / "b", data_dir=tmp_path / "restored")
    assert files_under(tmp_path / "restored") == OWNED - {"runs/1/weights/best.pt"}


async def test_backup_refuses_a_non_empty_folder_with_status_2_and_touches_nothing(tmp_path: Path) -> None:
    await make_data_dir(tmp_path / "data")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "keep.txt").write_text("mine")

    refused = run_api("backup", "--data-dir", tmp_path / "data", "--to", tmp_path / "b")

    assert refused.returncode == 2 and "not empty" in refused.stderr, refused.stderr
    assert files_under(tmp_path / "b") == {"keep.txt"}
    inside = run_api("backup", "--data-dir", tmp_path / "data", "--to", tmp_path / "data" / "backup")
    assert inside.returncode == 2 and "inside the data dir" in inside.stderr
    assert not (tmp_path / "data" / "backup").exists()


async def test_restore_refuses_a_non_empty_data_dir(tmp_path: Path) -> None:
    await make_data_dir(tmp_path / "data")
    assert run_api("backup", "--data-dir", tmp_path / "data", "--to", tmp_path / "b").returncode == 0

    refused = run_api("restore", "--from", tmp_path / "b", "--data-dir", tmp_path / "data")

    assert refused.returncode == 2 and "not empty" in refused.stderr, refused.stderr


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "missing", "unfinished"])
async def test_restore_of_a_damaged_backup_refuses_naming_the_file_and_writes_nothing(tmp_path: Path, damage: str) -> None:
    await make_data_dir(tmp_path / "data")
    backup(database=tmp_path / "data" / "server.db", data_dir=tmp_path / "data", target=tmp_path / "b")
    weights = tmp_path / "b" / "models" / "1.pt"
    if damage == "flipped byte":
        weights.write_bytes(b"X" + weights.read_bytes()[1:])
    elif damage == "truncated":
        weights.write_bytes(weights.read_bytes()[:-1])
    elif damage == "missing":
        weights.unlink()
    else:
        (tmp_path / "b" / MANIFEST).unlink()

    refused = run_api("restore", "--from", tmp_path / "b", "--data-dir", tmp_path / "new")

    assert refused.returncode == 2, refused.stderr
    assert ("no manifest.json" if damage == "unfinished" else "models/1.pt") in refused.stderr
    assert not (tmp_path / "new").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(BackupRefused):
        restore(source=tmp_path / "b", data_dir=tmp_path / "empty")
    assert list((tmp_path / "empty").iterdir()) == []


async def test_a_manifest_naming_paths_outside_the_backup_is_refused(tmp_path: Path) -> None:
    await make_data_dir(tmp_path / "data")
    backup(database=tmp_path / "data" / "server.db", data_dir=tmp_path / "data", target=tmp_path / "b")
    raw = json.loads((tmp_path / "b" / MANIFEST).read_text())
    raw["files"].append({"path": "../outside.txt", "size": 0, "sha256": hashlib.sha256(b"").hexdigest()})
    (tmp_path / "b" / MANIFEST).write_text(json.dumps(raw))

    with pytest.raises(BackupRefused, match=r"\.\./outside\.txt"):
        restore(source=tmp_path / "b", data_dir=tmp_path / "new")
    assert not (tmp_path / "new").exists() and not (tmp_path / "outside.txt").exists()


def test_the_server_help_names_the_commands_and_each_command_has_its_own() -> None:
    """(With flags only, run_api.py starts the server: the ServerProcess of the first test is that.)"""
    helped = run_api("--help")
    assert helped.returncode == 0 and "run_api.py backup --to DIR" in helped.stdout and "restore" in helped.stdout
    assert "--from DIR" in run_api("restore", "--help").stdout
