"""Streams: an RTSP camera (a real RTSP server on 127.0.0.1 sending the test video) is tracked, goes away, comes back."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import ADMIN_KEY, LiveServer, make_settings
from tests.rtsp import RtspServer, ensure_rtsp_server_packages
from tests.videos import write_video


@pytest.fixture(scope="module")
def rtsp_ready() -> None:
    reason = ensure_rtsp_server_packages()  # installs Debian's gst-rtsp-server when root with apt-get (~25 s)
    if reason is not None:
        pytest.skip(reason)


def _wait(http: httpx.Client, stream_id: int, predicate: Any, timeout: float = 60) -> dict[str, Any]:
    deadline, stream = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        stream = http.get(f"/streams/{stream_id}").json()
        if predicate(stream):
            return stream
        time.sleep(0.2)
    raise AssertionError(f"stream {stream_id}: {stream.get('status')} {stream.get('telemetry')}")


@pytest.fixture
def api(tracking_weights: Path, tmp_path: Path) -> Iterator[tuple[httpx.Client, int]]:
    with LiveServer(make_settings(tmp_path / "data")) as server, httpx.Client(
            base_url=f"{server.url}/api/v1", headers={"X-API-Key": ADMIN_KEY}, timeout=30) as http:
        model = http.post("/models", files={"file": ("tracker.pt", tracking_weights.read_bytes())})
        assert model.status_code == 201, model.text
        yield http, model.json()["id"]


@pytest.mark.timeout(600)  # a first run may install the RTSP server's packages and train the tracking model
def test_an_rtsp_camera_is_tracked_and_reconnected(rtsp_ready: None, api: tuple[httpx.Client, int],
                                                   tmp_path: Path) -> None:
    http, model = api
    with RtspServer(write_video(tmp_path / "paths.mp4", frames=60, fps=15), fps=15) as camera:
        created = http.post("/streams", json={"name": "rtsp-cam", "source": camera.url, "model": model,
                                              "enabled": True, "conf": 0.3, "iou": 0.45})
        assert created.status_code == 201, created.text
        stream = created.json()
        running = _wait(http, stream["id"], lambda s: s["status"] == "running"
                        and s["telemetry"]["frames_processed"] > 10)
        assert running["telemetry"]["reconnects"] == 0, running["telemetry"]
        tracks = http.get(f"/streams/{stream['id']}/tracks").json()["tracks"]
        assert {t["name"] for t in tracks} & {"square", "circle"}, tracks

        camera.stop()
        gone = _wait(http, stream["id"], lambda s: s["status"] == "reconnecting", timeout=30)
        assert gone["telemetry"]["last_error"]
        camera.start()
        back = _wait(http, stream["id"], lambda s: s["status"] == "running", timeout=60)
        assert back["telemetry"]["reconnects"] >= 1
        processed = back["telemetry"]["frames_processed"]
        _wait(http, stream["id"], lambda s: s["telemetry"]["frames_processed"] > processed + 10)
        tracks = http.get(f"/streams/{stream['id']}/tracks").json()["tracks"]
        assert {t["name"] for t in tracks} & {"square", "circle"}, tracks

        assert http.post(f"/streams/{stream['id']}/stop").status_code == 200
        assert _wait(http, stream["id"], lambda s: s["status"] == "stopped", timeout=20)["enabled"] is False
