"""The README, walked as a newcomer walks it: its install-and-run command verbatim in a copy of the checkout (default
flags, data in ./data, no key configured), the admin key it prints, then every curl of the README in order, then
Ctrl+C. The only edits: the printed key for `tk_...`, one epoch instead of ten, and a shapes photo as tray.jpg."""

from __future__ import annotations

import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from api.core.settings import Settings
from tests.readme_walk import ROOT, ReadmeServer, copy_checkout, prepare_venv, readme_commands, user_environment, venv_files
from tests.videos import write_video

EPOCHS = 1
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_API_PATH = re.compile(r"127\.0\.0\.1:8000/api/v1([^\s\"'?]*)")


class ReadmeWalk:
    """Runs the README's curls in order and checks what each one promises."""

    def __init__(self, server: ReadmeServer, key: str) -> None:
        self.server, self.key = server, key
        self.checked: list[str] = []

    def run(self, command: str) -> None:
        command = self._as_user_types_it(command)
        path = _API_PATH.search(command)
        assert path, f"a README curl that is not for this server: {command}"
        follow = "follow=true" in command
        status, body = self.server.curl(command, timeout=300 if follow else 120, env={"K": self.key})
        route = re.sub(r"/\d+", "/{id}", path.group(1))
        if follow:
            route += "?follow=true"
        check = self.CHECKS.get(route, ReadmeWalk._check_success)
        check(self, command, status, body)
        self.checked.append(route)

    def _as_user_types_it(self, command: str) -> str:
        command = command.replace("tk_...", self.key)
        command = re.sub(r'"epochs": \d+', f'"epochs": {EPOCHS}', command)
        for name in re.findall(r"=@([\w.-]+)", command):
            self._make_photo(self.server.checkout / name)
        return command

    def _make_photo(self, path: Path) -> None:
        if path.exists():
            return
        if path.suffix == ".mp4":  # the README's stand-in for a camera
            write_video(path, frames=30, fps=15)
            return
        assert path.suffix in (".jpg", ".jpeg", ".png"), f"the README uploads {path.name}; the test can make photos and videos"
        photos = sorted((self.server.checkout / "data" / "datasets").glob("*/images/val/*.jpg"))
        assert photos, "no built-in shapes photo in ./data/datasets"
        shutil.copyfile(photos[0], path)

    def _check_success(self, command: str, status: int, body: str) -> None:
        assert 200 <= status < 300, f"{command}\n{status} {body}"

    def _check_me(self, command: str, status: int, body: str) -> None:
        assert status == 200, body
        assert json.loads(body)["key"]["role"] == "admin", body

    def _check_datasets(self, command: str, status: int, body: str) -> None:
        assert status == 200, body
        datasets = {item["id"]: item for item in json.loads(body)["items"]}
        assert datasets.get(1, {}).get("task") == "detect", body  # the README trains on dataset 1 with a detector

    def _check_session_created(self, command: str, status: int, body: str) -> None:
        assert status == 201, body
        assert json.loads(body)["id"] == 1, body  # the README's next commands address session 1

    def _check_followed_logs(self, command: str, status: int, body: str) -> None:
        assert status == 200, body
        assert body.strip(), "the log stream ended with no line"
        session = self.server.api(self.key, "/sessions/1")  # the stream ends when the run does
        assert session["status"] == "completed", f"{session}\n{body[-3000:]}\n{self.server.tail()}"
        assert session["result_model_id"] == 1, session  # the README recognizes and evaluates with model 1

    def _check_chart(self, command: str, status: int, body: str) -> None:
        assert status == 200, body
        assert (self.server.checkout / "chart.png").read_bytes()[:8] == PNG_MAGIC

    def _check_recognition(self, command: str, status: int, body: str) -> None:
        assert status == 201, body
        recognition = json.loads(body)
        assert recognition["verdict"] in ("complete", "incomplete"), body  # a kit was given: checked
        assert recognition["params"]["kit"] == {"square": 2, "circle": 1}, body
        image = recognition["images"][0]
        assert image["expected"] == 3 and image["found"] == sum(image["counts"].values()), body

    def _check_evaluation(self, command: str, status: int, body: str) -> None:
        assert status == 201, body
        evaluation_id = json.loads(body)["id"]
        evaluation = self._poll(f"/evaluations/{evaluation_id}", timeout=240)
        assert evaluation["status"] == "completed", f"{evaluation}\n{self.server.tail()}"
        assert "mAP50" in evaluation["metrics"], evaluation

    def _check_key_created(self, command: str, status: int, body: str) -> None:
        assert status == 201, body
        created = json.loads(body)
        assert created["role"] == "operator" and created["key"].startswith("tk_"), body

    def _check_stream_running(self, command: str, status: int, body: str) -> None:
        """The stream starts at once; the README's next curls (its state, the preview) need a processed frame."""
        assert status == 201, body
        stream_id = json.loads(body)["id"]
        deadline = time.monotonic() + 120
        while (stream := self.server.api(self.key, f"/streams/{stream_id}"))["telemetry"]["frames_processed"] < 1:
            assert time.monotonic() < deadline, f"{stream}\n{self.server.tail()}"
            time.sleep(0.5)
        assert stream["status"] == "running", stream

    def _poll(self, path: str, *, timeout: float) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            resource = self.server.api(self.key, path)
            if resource["status"] not in ("queued", "running") or time.monotonic() > deadline:
                return resource
            time.sleep(0.5)

    CHECKS = {
        "/auth/me": _check_me,
        "/datasets": _check_datasets,
        "/sessions": _check_session_created,
        "/sessions/{id}/logs?follow=true": _check_followed_logs,
        "/sessions/{id}/chart.png": _check_chart,
        "/recognitions": _check_recognition,
        "/models/{id}/evaluate": _check_evaluation,
        "/keys": _check_key_created,
        "/streams": _check_stream_running,
    }


@pytest.mark.training
@pytest.mark.timeout(600)
def test_the_readme_walk_installs_trains_recognizes_evaluates_and_stops(tmp_path: Path) -> None:
    setup, curls = readme_commands((ROOT / "README.md").read_text())
    run_command = setup[0]
    assert run_command.startswith("python3 -m venv .venv") and run_command.endswith("run_api.py"), run_command
    checkout = copy_checkout(tmp_path / "checkout")
    prepare_venv(checkout, tmp_path / "bin")
    installed = venv_files(checkout)
    server = ReadmeServer(checkout, run_command, user_environment(tmp_path / "bin", list(Settings.model_fields)))
    server.start()
    try:
        key = server.wait_key(timeout=240)
        assert venv_files(checkout) == installed, "the README's venv + pip install was not a no-op"
        walk = ReadmeWalk(server, key)
        for command in curls:
            walk.run(command)
        assert set(ReadmeWalk.CHECKS) <= set(walk.checked), walk.checked  # the README still shows each step
        assert server.interrupt(timeout=60) == 0, server.tail()
    finally:
        server.kill()
