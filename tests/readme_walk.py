"""The README as a script: its commands, a copy of the checkout to run them in, and a server in its own network.

The server runs in a private network namespace (an unprivileged user namespace, as tests/helpers.py uses for
its tmpfs), so the README's literal 127.0.0.1:8000 is always free there; the curls enter that namespace."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# A fenced block with its language, or an inline `curl ...` span (the bot section gives one that way).
_SNIPPET = re.compile(r"^```(\w*)\n(.*?)^```|`(curl [^`\n]+)`", re.MULTILINE | re.DOTALL)
_KEY_ANNOUNCEMENT = re.compile(r"shown only now:\s+(tk_[A-Za-z0-9_-]{20,})")
# Python that brings up the loopback of a new network namespace (down there at first); tests/ray_cluster.py too.
LOOPBACK_UP = """
import fcntl, socket, struct
probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
flags = struct.unpack("16sH22x", fcntl.ioctl(probe, 0x8913, struct.pack("16sH22x", b"lo", 0)))[1]  # SIOCGIFFLAGS
fcntl.ioctl(probe, 0x8914, struct.pack("16sH22x", b"lo", flags | 1))  # SIOCSIFFLAGS, IFF_UP
"""
# ... then runs the README's command.
_LOOPBACK_UP_THEN_RUN = LOOPBACK_UP + """
import os, sys
os.execvp("bash", ["bash", "-c", sys.argv[1]])
"""
_PIP_SCRIPT = "#!{python}\nimport sys\nfrom pip._internal.cli.main import main\nsys.exit(main())\n"


def readme_commands(text: str) -> tuple[list[str], list[str]]:
    """(shell commands of the bash blocks that are not curls, every curl command), in document order."""
    setup: list[str] = []
    curls: list[str] = []
    for match in _SNIPPET.finditer(text):
        language, block, inline = match.groups()
        if inline:
            curls.append(inline)
        elif language == "bash":
            for command in _block_commands(block):
                (curls if command.startswith("curl ") else setup).append(command)
    return setup, curls


def _block_commands(block: str) -> list[str]:
    joined = re.sub(r"\\\n\s*", " ", block)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def copy_checkout(dest: Path) -> Path:
    """The working tree as `git ls-files` sees it: tracked files (with their uncommitted edits) and untracked ones
    that are not ignored; no data dir, no venv, no .env."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True, timeout=60).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if not source.is_file() and not source.is_symlink():
            continue  # tracked, deleted in the working tree
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, dest / name, follow_symlinks=False)
    return dest


def prepare_venv(checkout: Path, bin_dir: Path) -> None:
    """A venv in the copy that sees the installed packages, so the README's install is a quick no-op.

    Not a symlink to the real venv: `python3 -m venv` refuses a symlinked directory ("Unable to create directory"),
    and over the real one it would rewrite its activate scripts and pyvenv.cfg with the copy's path. So: a venv
    of the same interpreter, without pip, whose site-packages reach this venv's through a .pth file, and a `pip`
    script that runs the (reachable) installed pip. `python3` on the command's PATH is that same interpreter."""
    base = Path(getattr(sys, "_base_executable", sys.executable))
    venv = checkout / ".venv"
    subprocess.run([str(base), "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    reached = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (site / "_installed_packages.pth").write_text("".join(f"{path}\n" for path in reached))
    pip = venv / "bin" / "pip"
    pip.write_text(_PIP_SCRIPT.format(python=venv / "bin" / "python"))
    pip.chmod(0o755)
    bin_dir.mkdir(parents=True, exist_ok=True)
    (bin_dir / "python3").symlink_to(base)


def venv_files(checkout: Path) -> set[str]:
    """Everything in the copy's site-packages (an install that was not a no-op adds to it)."""
    site = Path(sysconfig.get_path("purelib", vars={"base": str(checkout / ".venv"), "platbase": str(checkout / ".venv")}))
    return {str(path.relative_to(site)) for path in site.rglob("*")}


def user_environment(bin_dir: Path, settings_fields: list[str]) -> dict[str, str]:
    """The test's environment without anything the server reads (DATA_DIR, API_KEYS, PORT, ...), venv, Python or
    test settings: a fresh shell. pip may not reach any index, so an install that is not a no-op fails."""
    dropped = {name.upper() for name in settings_fields} | {"VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "MPLBACKEND", "K"}
    env = {key: value for key, value in os.environ.items() if key.upper() not in dropped and not key.startswith("PYTEST")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '/usr/bin:/bin')}"
    return {**env, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


class ReadmeServer:
    """The README's install-and-run command, run by bash in the copy inside a private network namespace."""

    def __init__(self, checkout: Path, command: str, env: dict[str, str]) -> None:
        self.checkout, self.command, self.env = checkout, command, env
        self.log_path = checkout.parent / "readme-server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log_path.open("wb") as log:  # a new session: SIGINT to its group is the user's Ctrl+C
            self.proc = subprocess.Popen(
                ["unshare", "--user", "--map-root-user", "--net", sys.executable, "-c", _LOOPBACK_UP_THEN_RUN, self.command],
                cwd=self.checkout, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def shell(self, command: str, *, timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """A bash command in the server's network namespace, in the copy."""
        assert self.proc is not None
        return subprocess.run(["nsenter", "-t", str(self.proc.pid), "-U", "-n", "--preserve-credentials",
                               "bash", "-c", command], cwd=self.checkout, env={**self.env, **(env or {})},
                              capture_output=True, text=True, timeout=timeout)

    def curl(self, command: str, *, timeout: float = 60, env: dict[str, str] | None = None) -> tuple[int, str]:
        """A README curl as written, plus -sS, a time limit and the status code after the body: (status, body)."""
        assert command.startswith("curl ")
        bounded = f"curl -sS -m {timeout:g} -w '\\n%{{http_code}}' {command[len('curl '):]}"
        result = self.shell(bounded, timeout=timeout + 30, env=env)
        assert result.returncode == 0, f"{command}\nexit {result.returncode}: {result.stderr}\n{self.tail()}"
        body, _, status = result.stdout.rpartition("\n")
        return int(status), body

    def wait_key(self, timeout: float) -> str:
        """Waits until /health answers; returns the admin key the first start printed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"the README command exited {self.proc.returncode}:\n{self.tail()}")
            if self.shell("curl -s -m 2 -o /dev/null -w '%{http_code}' http://127.0.0.1:8000/api/v1/health",
                          timeout=30).stdout == "200":
                found = _KEY_ANNOUNCEMENT.search(self.output())
                assert found, f"no admin key printed:\n{self.tail()}"
                return found.group(1)
            time.sleep(0.5)
        raise AssertionError(f"the server never answered on 127.0.0.1:8000:\n{self.tail()}")

    def interrupt(self, timeout: float) -> int:
        """Ctrl+C: SIGINT to the whole process group; the exit status of the README command."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGINT)
        return self.proc.wait(timeout=timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=30)

    def tail(self, chars: int = 6000) -> str:
        return self.output()[-chars:]

    def api(self, key: str, path: str) -> Any:
        """GET a JSON resource (for polling between the README's commands)."""
        status, body = self.curl(f'curl -H "X-API-Key: {key}" http://127.0.0.1:8000/api/v1{path}')
        assert status == 200, f"GET {path}: {status} {body}"
        return json.loads(body)
