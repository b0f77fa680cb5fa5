"""kill -9 of the server mid-run: the child dies with it, and a restart resumes the run to completion."""

from __future__ import annotations

import time

import httpx
import psutil
import pytest

from tests.helpers import ServerProcess
from tests.training_helpers import TINY

pytestmark = pytest.mark.training
KEY = "tk_crash-test-key-123456"


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
