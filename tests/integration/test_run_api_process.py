"""run_api.py as a user runs it: first-start key, flags over env, restart keeps data."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest

from tests.helpers import ServerProcess

KEY_PATTERN = re.compile(r"tk_[A-Za-z0-9_-]{20,}")


def test_first_start_prints_an_admin_key_once_and_stores_only_its_hash(tmp_path) -> None:
    server = ServerProcess(tmp_path / "data", env={"API_KEYS": ""})
    try:
        server.start()
        keys = KEY_PATTERN.findall(server.output())
        assert keys, server.output()
        plain = keys[0]
        me = httpx.get(server.url + "/api/v1/auth/me", headers={"X-API-Key": plain})
        assert me.status_code == 200 and me.json()["key"]["source"] == "bootstrap"
        server.stop()
        assert plain.encode() not in (tmp_path / "data" / "server.db").read_bytes()

        log_before = server.output()
        server.start()
        assert KEY_PATTERN.findall(server.output()[len(log_before):]) == []  # not printed again
        assert httpx.get(server.url + "/api/v1/auth/me", headers={"X-API-Key": plain}).status_code == 200
    finally:
        server.stop()


def test_port_flag_wins_over_env(tmp_path) -> None:
    server = ServerProcess(tmp_path / "data", "--api-keys", "tk_flag-key-0123456789abcd",
                           env={"PORT": "1", "API_KEYS": "tk_env-key-0123456789abcdef"})
    try:
        server.start()  # listens on server.port (the flag), not on 1
        assert httpx.get(server.url + "/api/v1/auth/me", headers={"X-API-Key": "tk_flag-key-0123456789abcd"}).status_code == 200
    finally:
        server.stop()


@pytest.mark.slow  # the README walk (default run) also trains with the relative data dir
@pytest.mark.training
def test_the_default_relative_data_dir_trains(tmp_path) -> None:
    """The README's flow: `python run_api.py` from a checkout, data in ./data (relative), then a training run.
    The child works in its run dir, where a relative path pointed nowhere ("data/runs/1/data.yaml" missing)."""
    key = "tk_relative-data-dir-key-0123456789"
    server = ServerProcess(Path("data"), "--api-keys", key, cwd=tmp_path)
    server.log_path = tmp_path / "server.log"
    try:
        server.start()
        headers = {"X-API-Key": key}
        session = httpx.post(f"{server.url}/api/v1/sessions", headers=headers, timeout=30, json={
            "task": "detect", "model": "yolov8n.yaml", "dataset": 1, "epochs": 1, "imgsz": 64, "batch": 8}).json()
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            done = httpx.get(f"{server.url}/api/v1/sessions/{session['id']}", headers=headers, timeout=30).json()
            if done["status"] not in ("queued", "running"):
                break
            time.sleep(0.5)
        assert done["status"] == "completed", done.get("error")
        assert (tmp_path / "data" / "server.db").is_file()
    finally:
        server.stop()
