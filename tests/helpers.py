"""Test helpers: settings in a temp dir, an in-thread uvicorn server, a run_api.py subprocess."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from api.core.server import server_config
from api.core.settings import Settings
from api.main import create_app

ROOT = Path(__file__).resolve().parent.parent
ADMIN_KEY = "tk_test-admin-key-0123456789"


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "api_keys": [ADMIN_KEY],
        "system_sample_interval_s": 0.2,
        "shapes_train_images": 24,
        "port": 0,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """A real uvicorn server on 127.0.0.1 in a background thread (its own event loop)."""

    def __init__(self, settings: Settings, *, port: int | None = None, **app_kwargs: Any) -> None:
        self.settings = settings
        self.app = create_app(settings, **app_kwargs)
        self.port = port or free_port()
        config = server_config(self.app, self.settings, host="127.0.0.1", port=self.port, log_level="warning",
                               ws="websockets-sansio")
        self.server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.run(self.server.serve())

    def __enter__(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self._thread.join(timeout=60)

    def client(self, key: str | None = ADMIN_KEY, **headers: str) -> httpx.AsyncClient:
        if key:
            headers["X-API-Key"] = key
        return httpx.AsyncClient(base_url=self.url + "/api/v1", headers=headers, timeout=30)


class ServerProcess:
    """`python run_api.py ...` as a user runs it; output goes to a file the test can read."""

    def __init__(self, data_dir: Path, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
                 disk_mb: int | None = None) -> None:
        # A data dir on a tmpfs of this size, private to the server, with its TMPDIR (where multipart bodies spool)
        # on it too: a real disk that fills up.
        self.disk_mb = disk_mb
        self.port = free_port()
        self.data_dir = data_dir
        self.log_path = data_dir.parent / f"server-{self.port}.log"
        self.args = ["--data-dir", str(data_dir), "--port", str(self.port), *args]
        self.env = {**os.environ, "SYSTEM_SAMPLE_INTERVAL_S": "0.5", "SHAPES_TRAIN_IMAGES": "24", **(env or {})}
        if disk_mb:
            self.env["TMPDIR"] = str(data_dir / "tmp")
        self.cwd = cwd or ROOT
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> ServerProcess:
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        command = [sys.executable, str(ROOT / "run_api.py"), *self.args]
        if self.disk_mb:  # a user + mount namespace: no privileges needed, and the mount dies with the process
            self.data_dir.mkdir(exist_ok=True)
            script = f'mount -t tmpfs -o size={self.disk_mb}m tmpfs "$0" && mkdir "$0/tmp" && exec "$@"'
            command = ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, str(self.data_dir), *command]
        self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=self.cwd)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited {self.proc.returncode}:\n{self.output()}")
            try:
                if httpx.get(self.url + "/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server not ready:\n{self.output()}")

    def data_path(self, *parts: str) -> Path:
        """A path under the data dir as the server sees it (its private tmpfs, when it has one)."""
        if not self.disk_mb:
            return self.data_dir.joinpath(*parts)
        assert self.proc is not None
        return Path(f"/proc/{self.proc.pid}/root") / self.data_dir.resolve().relative_to("/") / Path(*parts)

    def assert_consistent(self) -> None:
        """tests.durability's check on the data dir; run inside the server's namespaces when it has its own disk
        (SQLite resolves /proc/PID/root as a symlink and would open the folder under the mount)."""
        if not self.disk_mb:
            from tests.durability import assert_consistent
            assert_consistent(self.data_dir)
            return
        assert self.proc is not None
        check = subprocess.run(["nsenter", "-t", str(self.proc.pid), "-U", "-m", "--preserve-credentials",
                                sys.executable, str(ROOT / "tests" / "durability.py"), str(self.data_dir)],
                               capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert check.returncode == 0, check.stderr[-3000:]

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is the error body of DESIGN.md with this status and code; returns its details."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    return error["details"]
