"""What stream tests run against: a scenes dataset like the test videos, an OSC receiver, an MJPEG camera."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import ThreadingOSCUDPServer

from tests.videos import DEFAULT_PATHS, Path2D, jpeg_frames, render_frame

CLASSES = ("square", "circle", "triangle")
_COLOURS = {path.shape: path.colour for path in DEFAULT_PATHS} | {"triangle": (40, 160, 40)}


def scenes_folder(root: Path, *, train: int = 48, val: int = 12, size: int = 256, seed: int = 0) -> Path:
    """Still frames drawn like the test videos, shapes anywhere: fine-tuning on them makes tracking reliable."""
    rng = random.Random(seed)
    side = int(size * 0.26) / size
    for split, count in (("train", train), ("val", val)):
        (root / "images" / split).mkdir(parents=True, exist_ok=True)
        (root / "labels" / split).mkdir(parents=True, exist_ok=True)
        for index in range(count):
            shapes = []
            for _ in range(rng.randint(1, 3)):
                shape = rng.choice(CLASSES)
                centre = (rng.uniform(0.15, 0.85), rng.uniform(0.15, 0.85))
                shapes.append(Path2D(shape, centre, centre, _COLOURS[shape]))
            cv2.imwrite(str(root / "images" / split / f"{index}.jpg"), render_frame(tuple(shapes), 0.0, size))
            labels = [f"{CLASSES.index(s.shape)} {s.start[0]:.5f} {s.start[1]:.5f} {side:.5f} {side:.5f}" for s in shapes]
            (root / "labels" / split / f"{index}.txt").write_text("\n".join(labels))
    (root / "data.yaml").write_text(f"names: {list(CLASSES)}\nnc: {len(CLASSES)}\n")
    return root


@dataclass(frozen=True)
class OscMessage:
    address: str
    args: tuple[Any, ...]
    received: float


class OscRecorder:
    """A real OSC server (python-osc) on 127.0.0.1 that keeps what it receives (bounded)."""

    def __init__(self, limit: int = 200_000) -> None:
        dispatcher = Dispatcher()
        dispatcher.set_default_handler(self._record)
        self.messages: list[OscMessage] = []
        self._limit = limit
        self._lock = threading.Lock()
        self.server = ThreadingOSCUDPServer(("127.0.0.1", 0), dispatcher)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def _record(self, address: str, *args: Any) -> None:
        with self._lock:
            if len(self.messages) < self._limit:
                self.messages.append(OscMessage(address, args, time.time()))

    def __enter__(self) -> OscRecorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def snapshot(self) -> list[OscMessage]:
        with self._lock:
            return list(self.messages)

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def wait_for(self, predicate: Callable[[list[OscMessage]], bool], timeout: float = 30) -> list[OscMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            messages = self.snapshot()
            if predicate(messages):
                return messages
            time.sleep(0.1)
        raise AssertionError(f"OSC: condition not met in {timeout} s ({len(self.snapshot())} messages)")


def frames_by_number(messages: list[OscMessage], prefix: str) -> dict[int, dict[str, Any]]:
    """Per-slot OSC values grouped by frame: {frame: {"p1_x": .., "count": ..}}. A bundle arrives in order, with
    `frame` among its last messages, so values are collected until the frame number comes."""
    frames: dict[int, dict[str, Any]] = {}
    pending: dict[str, Any] = {}
    for message in messages:
        name = message.address.removeprefix(prefix)
        pending[name] = message.args[0] if len(message.args) == 1 else message.args
        if name == "capture_ts":
            frame = int(pending.get("frame", -1))
            frames[frame] = dict(pending)
            pending = {}
    return frames


class MjpegCamera:
    """An MJPEG-over-HTTP camera on 127.0.0.1 (multipart/x-mixed-replace), stoppable and restartable on one port."""

    def __init__(self, fps: float = 15.0, port: int = 0) -> None:
        self.frames = jpeg_frames(frames=60)
        self.fps = fps
        self.port = port or _free_port()
        self._server: ThreadingHTTPServer | None = None
        self._stopping = threading.Event()

    def start(self) -> MjpegCamera:
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=cam")
                self.end_headers()
                index = 0
                while not camera._stopping.is_set():
                    jpeg = camera.frames[index % len(camera.frames)]
                    try:
                        self.wfile.write(b"--cam\r\nContent-Type: image/jpeg\r\nContent-Length: "
                                         + str(len(jpeg)).encode() + b"\r\n\r\n" + jpeg + b"\r\n")
                    except OSError:
                        return
                    index += 1
                    time.sleep(1 / camera.fps)

        self._stopping.clear()
        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream.mjpg"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
