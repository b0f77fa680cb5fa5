"""Debian packages that optional tests need (Chromium, an RTSP server), installed by the tests themselves."""

from __future__ import annotations

import os
import shutil
import subprocess
import time


def apt_install(packages: list[str], *, what: str, timeout_s: float) -> str | None:
    """Installs `packages` with apt-get (root only, bounded); None when done, else why not (for pytest.skip)."""
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        return f"no {what}: install {' '.join(packages)} (needs root and apt-get)"
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    deadline = time.monotonic() + timeout_s
    lock = ["-o", "DPkg::Lock::Timeout=60"]  # another apt run (or a parallel test worker) may hold the lock
    for command in ([apt, *lock, "-q", "update"], [apt, *lock, "-q", "install", "-y", "--no-install-recommends", *packages]):
        try:
            done = subprocess.run(command, capture_output=True, text=True, env=env,
                                  timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return f"no {what}: `{' '.join(command[3:])}` ran past {timeout_s} s"
        if done.returncode != 0:
            tail = " ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
            return f"no {what}: `apt-get {' '.join(command[3:])}` failed: {tail}"
    return None
