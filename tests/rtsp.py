"""A real RTSP server on 127.0.0.1 for stream tests: GStreamer's gst-rtsp-server from Debian's packages.

The server runs in a child process under the SYSTEM python3 (PyGObject is a Debian package, not a wheel) and sends
the test video's frames as Motion JPEG over RTP (tests/rtsp_server.py), looping, at the video's frame rate.
`ensure_rtsp_server_packages()` installs the packages when they are missing and the tests run as root with apt-get
(as CI does); elsewhere it returns why the server cannot run, and the tests skip with that reason.
"""

from __future__ import annotations

import functools
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import cv2

from tests.debian import apt_install
from tests.helpers import free_port
from tests.videos import jpeg_frames

SYSTEM_PYTHON = "/usr/bin/python3"
SERVER_SCRIPT = Path(__file__).resolve().parent / "rtsp_server.py"
# gst-rtsp-server's GObject bindings and PyGObject; the plugins named are what the launch line uses (multifilesrc,
# rtpjpegpay: good; jpegparse: bad; videorate: base); libgstrtspserver depends on all three anyway.
# Bookworm, --no-install-recommends: 140 packages, 70 MB to download, 226 MB installed.
PACKAGES = ("gir1.2-gst-rtsp-server-1.0", "python3-gi", "gstreamer1.0-plugins-base", "gstreamer1.0-plugins-good",
            "gstreamer1.0-plugins-bad")
INSTALL_TIMEOUT_S = 240  # update + install together; a fresh install measured ~25 s
_PROBE = ("import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0'); "
          "from gi.repository import Gst, GstRtspServer; Gst.init(None); "
          "missing = [e for e in ('multifilesrc', 'jpegparse', 'videorate', 'rtpjpegpay') "
          "if Gst.ElementFactory.find(e) is None]; "
          "print('missing GStreamer elements: ' + ', '.join(missing) if missing else 'ok')")


def _probe() -> str | None:
    """None when the system python3 can run the server, else why not."""
    if not Path(SYSTEM_PYTHON).is_file():
        return f"{SYSTEM_PYTHON} not found"
    try:
        done = subprocess.run([SYSTEM_PYTHON, "-c", _PROBE], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return "probing GStreamer timed out"
    if done.returncode != 0:
        return (done.stderr.strip().splitlines() or ["GstRtspServer cannot be imported"])[-1]
    return None if done.stdout.strip() == "ok" else done.stdout.strip()


@functools.cache  # once per test session (per process)
def ensure_rtsp_server_packages() -> str | None:
    """None when an RTSP server can run here (installing Debian's packages first if needed and allowed), else the
    reason it cannot, for pytest.skip."""
    missing = _probe()
    if missing is None:
        return None
    why = apt_install(list(PACKAGES), what="RTSP server", timeout_s=INSTALL_TIMEOUT_S)
    if why:
        return f"{why} ({missing})"
    missing = _probe()
    return None if missing is None else f"no RTSP server after installing {' '.join(PACKAGES)}: {missing}"


def frames_from_video(video: Path, folder: Path) -> int:
    """Decodes a video (OpenCV) into folder/000.jpg, 001.jpg, ... as the server sends them; returns how many."""
    capture = cv2.VideoCapture(str(video))
    count = 0
    try:
        while True:
            ok, image = capture.read()
            if not ok:
                break
            cv2.imwrite(str(folder / f"{count:03d}.jpg"), image, [cv2.IMWRITE_JPEG_QUALITY, 90])
            count += 1
    finally:
        capture.release()
    if count == 0:
        raise ValueError(f"OpenCV reads no frames from {video}")
    return count


class RtspServer:
    """rtsp://127.0.0.1:PORT/test sending a video's frames (a video file, a folder of 000.jpg.., or by default the
    test video's frames) looping at `fps`. Stoppable and restartable on one port, like MjpegCamera."""

    def __init__(self, source: Path | None = None, port: int = 0, fps: int = 15) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="rtsp-")
        self.log_path = Path(self._tmp.name) / "server.log"
        if source is not None and source.is_dir():
            self.frames_dir = source
        else:
            self.frames_dir = Path(self._tmp.name) / "frames"
            self.frames_dir.mkdir()
            if source is None:
                for index, jpeg in enumerate(jpeg_frames(frames=60)):
                    (self.frames_dir / f"{index:03d}.jpg").write_bytes(jpeg)
            else:
                frames_from_video(source, self.frames_dir)
        if not (self.frames_dir / "000.jpg").is_file():
            raise ValueError(f"{self.frames_dir} has no 000.jpg")
        self.fps = fps
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self.started_in_s: float | None = None  # the last start(): spawn to a DESCRIBE answered 200

    @property
    def url(self) -> str:
        return f"rtsp://127.0.0.1:{self.port}/test"

    def start(self, timeout: float = 30) -> RtspServer:
        if self._process is not None:
            return self
        began = time.monotonic()
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [SYSTEM_PYTHON, str(SERVER_SCRIPT), str(self.frames_dir), str(self.port), str(self.fps)],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = began + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                self._process = None
                raise RuntimeError(f"the RTSP server exited: {self.log()}")
            if self._describe_ok():
                self.started_in_s = time.monotonic() - began
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the RTSP server did not answer DESCRIBE in {timeout} s: {self.log()}")

    def _describe_ok(self) -> bool:
        request = (f"DESCRIBE {self.url} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n"
                   "User-Agent: tests\r\n\r\n").encode()
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
                sock.sendall(request)
                return sock.recv(4096).startswith(b"RTSP/1.0 200")
        except OSError:
            return False

    def stop(self, timeout: float = 10) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()  # the server says goodbye to its clients (RTCP BYE), as a camera shut down would
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout)

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def __enter__(self) -> RtspServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._tmp.cleanup()
