"""kill -9 of the server mid-run and mid-upload: the child dies with it, the SQLite file stays sound, no row points
at a partial file, a restart sweeps what the kill left half-written, the run resumes and the upload can be retried."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil
import pytest

from tests.archives import detection_folder, zip_folder
from tests.durability import debris
from tests.helpers import ServerProcess
from tests.training_helpers import TINY

pytestmark = [pytest.mark.training, pytest.mark.reliability]
KEY = "tk_crash-test-key-123456"
HEADERS = {"X-API-Key": KEY}


def poll(server: ServerProcess, session_id: int, predicate, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    session: dict = {}
    while time.monotonic() < deadline:
        response = httpx.get(f"{server.url}/api/v1/sessions/{session_id}", headers={"X-API-Key": KEY}, timeout=5)
        session = response.json()
        if predicate(session):
            return session
        time.sleep(0.25)
    raise AssertionError(f"timed out: {session}\n{server.output()[-3000:]}")


def test_kill_9_of_the_server_mid_run_then_restart_resumes_to_completion(tmp_path) -> None:
    server = ServerProcess(tmp_path / "data", "--api-keys", KEY)
    try:
        server.start()
        created = httpx.post(f"{server.url}/api/v1/sessions", headers={"X-API-Key": KEY},
                             json={**TINY, "epochs": 4}, timeout=10)
        assert created.status_code == 201, created.text
        session_id = created.json()["id"]
        poll(server, session_id, lambda s: s["progress"]["epoch"] >= 1)
        assert server.proc is not None
        children = psutil.Process(server.proc.pid).children()
        assert children, "the training child should be running"

        server.kill()
        gone, alive = psutil.wait_procs(children, timeout=15)
        assert not alive, "a training child outlived the server (orphan holding resources)"
        server.assert_consistent()

        server.start()
        resumed = poll(server, session_id, lambda s: s["status"] in ("completed", "failed"))
        assert resumed["status"] == "completed", resumed["error_tail"]
        assert resumed["attempts"] == 2 and resumed["progress"]["epoch"] == 4
        assert resumed["result_model_id"] is not None
        logs = httpx.get(f"{server.url}/api/v1/sessions/{session_id}/logs", params={"limit": 1000},
                         headers={"X-API-Key": KEY}).json()
        assert any("Resuming training" in line["message"] for line in logs["items"])
        assert "interrupted" in server.output()
    finally:
        server.stop()
    server.assert_consistent()


def test_without_auto_resume_an_interrupted_run_waits_for_the_user(tmp_path) -> None:
    server = ServerProcess(tmp_path / "data", "--api-keys", KEY, env={"AUTO_RESUME": "false"})
    try:
        server.start()
        created = httpx.post(f"{server.url}/api/v1/sessions", headers={"X-API-Key": KEY},
                             json={**TINY, "epochs": 30}, timeout=10).json()
        poll(server, created["id"], lambda s: s["status"] == "running")
        server.kill()
        server.start()
        session = poll(server, created["id"], lambda s: s["status"] != "running", timeout=10)
        assert session["status"] == "interrupted"
        stop = httpx.post(f"{server.url}/api/v1/sessions/{created['id']}/resume", headers={"X-API-Key": KEY})
        assert stop.status_code == 200 and stop.json()["status"] == "queued"
    finally:
        server.stop()


def in_background(request: Callable[[], httpx.Response], *, until_refused: bool = False) -> threading.Thread:
    """A request whose answer the test does not wait for (the server is killed under it); with until_refused,
    sent again and again until the server is gone."""
    def run() -> None:
        try:
            request()
            while until_refused:
                request()
        except httpx.HTTPError:
            pass
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def kill_when(server: ServerProcess, seen: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """kill -9 the moment `seen()` holds: the write it watches for is under way."""
    deadline = time.monotonic() + timeout
    while not seen():
        assert time.monotonic() < deadline, f"never saw {what}:\n{server.output()[-2000:]}"
        time.sleep(0.002)
    server.kill()


def count(server: ServerProcess, path: str) -> int:
    return httpx.get(f"{server.url}/api/v1/{path}", headers=HEADERS, timeout=10).json()["total"]


@pytest.mark.slow  # the sweep it relies on is unit-tested (tests/unit/test_storage_sweep.py)
def test_kill_9_mid_upload_leaves_no_partial_file_and_the_upload_can_be_retried(tmp_path: Path,
                                                                                 trained_weights: Path) -> None:
    data = tmp_path / "data"
    archive = zip_folder(detection_folder(tmp_path / "big", train=400, val=40))  # validating it takes a while
    weights = trained_weights.read_bytes()
    photo = next((tmp_path / "big" / "images" / "val").iterdir()).read_bytes()
    server = ServerProcess(data, "--api-keys", KEY).start()

    def post(path: str, **kwargs: object) -> httpx.Response:
        return httpx.post(f"{server.url}/api/v1/{path}", headers=HEADERS, timeout=60, **kwargs)  # type: ignore[arg-type]

    def restart_and_check() -> None:
        server.assert_consistent()  # as the kill left it
        server.start()
        assert debris(data) == [], "the restart should sweep what the kill left half-written"
        server.assert_consistent()

    try:
        datasets = count(server, "datasets")
        in_background(lambda: post("datasets", files={"file": ("big.zip", archive)}))
        kill_when(server, lambda: any((data / "datasets").glob(".staging-*/extracted/*")), "the archive extracted")
        assert debris(data), "the kill should have landed while the upload was being written"
        restart_and_check()
        assert count(server, "datasets") == datasets
        assert post("datasets", files={"file": ("big.zip", archive)}).status_code == 201  # not a 409 duplicate

        in_background(lambda: post("models", files={"file": ("best.pt", weights)}))
        kill_when(server, lambda: any(p.stat().st_size == len(weights) for p in (data / "models").glob(".uploads/*")),
                  "the weights staged")
        assert debris(data), "the kill should have landed while the weights were being checked"
        restart_and_check()
        assert count(server, "models") == 0
        model = post("models", files={"file": ("best.pt", weights)})
        assert model.status_code == 201, model.text

        for _ in range(4):
            in_background(lambda: post("recognitions", files=[("images", ("a.jpg", photo))] * 4,
                                       data={"model": str(model.json()["id"])}), until_refused=True)
        kill_when(server, lambda: any((data / "recognitions").glob(".staging-*/*")), "photos being stored")
        restart_and_check()
        assert post("recognitions", files={"images": ("a.jpg", photo)},
                    data={"model": str(model.json()["id"])}).status_code == 201
        assert count(server, "recognitions") >= 1
    finally:
        server.stop()
    server.assert_consistent()
