"""A real local Ray cluster for the tests: a head and a second node, in a network namespace of their own.

Ray turns 127.0.0.1 into the machine's address unless loopback is all there is, so the cluster, the server and
the test's HTTP client share a private network namespace (only `lo`, up): every address is 127.0.0.1. The
client runs on a thread that joined the namespace (setns); processes started from that thread are born in it.
Ray comes from requirements-ray.txt, installed here by the test run itself when it is missing."""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import psutil

from tests.helpers import ROOT, free_port
from tests.readme_walk import LOOPBACK_UP

T = TypeVar("T")
_CLONE_NEWNET = 0x40000000
_LOOPBACK_UP_THEN_SLEEP = LOOPBACK_UP + """
import time
print("up", flush=True)
time.sleep(10**6)
"""


def ensure_ray() -> None:
    """Install requirements-ray.txt into this venv when Ray is missing (an optional part, like Chromium)."""
    try:
        import ray  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r", str(ROOT / "requirements-ray.txt")],
                       check=True, timeout=900)


class PrivateNetwork:
    """A network namespace with only loopback, held open by a sleeping process; `call` runs code inside it."""

    def __init__(self) -> None:
        self.holder = subprocess.Popen(["unshare", "--net", sys.executable, "-c", _LOOPBACK_UP_THEN_SLEEP],
                                       stdout=subprocess.PIPE, text=True)
        assert self.holder.stdout is not None and self.holder.stdout.readline().strip() == "up"
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="netns", initializer=self._enter)

    def _enter(self) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        with open(f"/proc/{self.holder.pid}/ns/net") as namespace:
            if libc.setns(namespace.fileno(), _CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns failed: the Ray tests need root")

    def call(self, function: Callable[..., T], *args: Any, timeout: float = 600, **kwargs: Any) -> T:
        return self._thread.submit(function, *args, **kwargs).result(timeout=timeout)

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        self.holder.kill()
        self.holder.wait()


class RayNodes:
    """`ray start` a head and more nodes (tagged node_a, node_b, ...) from inside the namespace."""

    def __init__(self, network: PrivateNetwork, cpus_per_node: int = 1) -> None:
        self.network, self.cpus = network, cpus_per_node
        self.port = free_port()  # any free number: the namespace has no one else
        self.temp_dir = Path(tempfile.mkdtemp(prefix="ray", dir="/tmp"))  # short: Ray's socket paths have a limit
        self.env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "PYTHONPATH": str(ROOT),
                    "RAY_health_check_period_ms": "1000", "RAY_health_check_timeout_ms": "1000",
                    "RAY_health_check_failure_threshold": "3", "RAY_health_check_initial_delay_ms": "1000"}
        self.ray = str(Path(sys.executable).with_name("ray"))
        self.tags: list[str] = []

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _start(self, *args: str) -> None:
        tag = f"node_{chr(ord('a') + len(self.tags))}"
        command = [self.ray, "start", "--node-ip-address=127.0.0.1", f"--num-cpus={self.cpus}", "--num-gpus=0",
                   "--disable-usage-stats", "--object-store-memory=100000000", f'--resources={{"{tag}": 1}}', *args]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        self.tags.append(tag)

    def start_head(self) -> None:
        self.network.call(self._start, "--head", f"--port={self.port}", "--include-dashboard=false",
                          f"--temp-dir={self.temp_dir}")

    def add_node(self) -> None:
        self.network.call(self._start, f"--address={self.address}")

    def kill_node(self, node_id: str) -> None:
        """kill -9 the raylet of this node and everything it started (its workers and agents)."""
        raylets = [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] and
                   p.info["cmdline"][0].endswith("raylet") and f"--node_id={node_id}" in " ".join(p.info["cmdline"])]
        assert len(raylets) == 1, f"no raylet of node {node_id}"
        for process in [*raylets[0].children(recursive=True), raylets[0]]:
            try:
                process.send_signal(signal.SIGKILL)
            except psutil.NoSuchProcess:
                pass

    def stop(self) -> None:
        subprocess.run([self.ray, "stop", "--force"], env=self.env, capture_output=True, timeout=120)
        if not os.environ.get("KEEP_RAY_TEMP"):  # to read its logs after a failure
            shutil.rmtree(self.temp_dir, ignore_errors=True)
        time.sleep(0.5)
