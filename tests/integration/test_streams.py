"""A stream from a recorded video, end to end: real server, real worker process, real OSC receiver.

The video shows a square moving left to right along y = 0.28 and a circle moving right to left along y = 0.72
(tests/videos.py), 60 frames at 15 fps, looping. A vertical line at x = 0.5 is crossed once by each per loop."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import httpx
import numpy as np
import pytest
from websockets.asyncio.client import connect

from tests.helpers import ADMIN_KEY, LiveServer, make_settings
from tests.stream_helpers import OscRecorder, frames_by_number
from tests.videos import DEFAULT_PATHS, write_video

FRAMES, FPS = 60, 15.0
PREFIX = "/td/"
SQUARE, CIRCLE = DEFAULT_PATHS


class Running:
    def __init__(self, server: LiveServer, http: httpx.Client, osc: OscRecorder, stream: dict[str, Any]) -> None:
        self.server, self.http, self.osc, self.stream = server, http, osc, stream

    def get(self) -> dict[str, Any]:
        response = self.http.get(f"/streams/{self.stream['id']}")
        assert response.status_code == 200, response.text
        return response.json()

    def wait(self, predicate: Any, timeout: float = 60, what: str = "") -> dict[str, Any]:
        deadline, stream = time.monotonic() + timeout, {}
        while time.monotonic() < deadline:
            stream = self.get()
            if predicate(stream):
                return stream
            time.sleep(0.2)
        raise AssertionError(f"stream never reached {what}: {stream['status']} {stream['telemetry']}")


@pytest.fixture(scope="module")
def running(tracking_weights: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("streams")
    video = write_video(root / "paths.mp4", frames=FRAMES, fps=FPS)
    with LiveServer(make_settings(root / "data")) as server, OscRecorder() as osc, httpx.Client(
            base_url=f"{server.url}/api/v1", headers={"X-API-Key": ADMIN_KEY}, timeout=30) as http:
        model = http.post("/models", files={"file": ("tracker.pt", tracking_weights.read_bytes())})
        assert model.status_code == 201, model.text
        uploaded = http.post("/videos", files={"file": ("paths.mp4", video.read_bytes())})
        assert uploaded.status_code == 201, uploaded.text
        created = http.post("/streams", json={
            "name": "tray", "source": f"video:{uploaded.json()['id']}", "model": model.json()["id"],
            "conf": 0.3, "iou": 0.45, "objects_max": 4, "persistence_ms": 500,
            "lines": [{"name": "middle", "start": [0.5, 0.0], "end": [0.5, 1.0]}],
            "zones": [{"name": "top", "points": [[0, 0], [1, 0], [1, 0.5], [0, 0.5]]}],
            "sinks": {"osc": {"host": "127.0.0.1", "port": osc.port, "address_prefix": PREFIX}}})
        assert created.status_code == 201, created.text
        state = Running(server, http, osc, created.json())
        state.wait(lambda s: s["status"] == "running" and s["telemetry"]["frames_processed"] > FRAMES * 1.5,
                   what="running for a loop and a half")
        yield state


def _expected(frame: int) -> float:
    """t along the paths of capture frame `frame` (1-based, the video loops)."""
    return ((frame - 1) % FRAMES) / (FRAMES - 1)


def test_osc_slot_values_follow_the_known_paths_with_stable_ids(running: Running) -> None:
    frames = frames_by_number(running.osc.snapshot(), PREFIX)
    assert len(frames) >= FRAMES, f"{len(frames)} frames over OSC"
    on_path: dict[str, list[tuple[int, int, int, float]]] = {"square": [], "circle": []}  # (frame, id, slot, x)
    for number, values in frames.items():
        for slot in range(1, 5):
            if values.get(f"p{slot}_id", -1) == -1:
                continue
            x, y = values[f"p{slot}_x"], values[f"p{slot}_y"]
            path = SQUARE if abs(y - SQUARE.start[1]) < 0.08 else CIRCLE if abs(y - CIRCLE.start[1]) < 0.08 else None
            assert path is not None, f"frame {number}: slot {slot} at y={y:.3f} is on neither path"
            assert abs(x - path.centre(_expected(number))[0]) < 0.08, f"frame {number}: {path.shape} at x={x:.3f}"
            on_path[path.shape].append((number, int(values[f"p{slot}_id"]), slot, x))
    for shape, points in on_path.items():
        assert len(points) >= 0.7 * len(frames), f"the {shape} was tracked in {len(points)} of {len(frames)} frames"
        loops: dict[int, list[tuple[int, int, int, float]]] = {}
        for point in points:
            loops.setdefault((point[0] - 1) // FRAMES, []).append(point)
        for loop, seen in loops.items():
            ids = {track_id for _, track_id, _, _ in seen}
            assert len(ids) == 1, f"the {shape} changed track id within loop {loop}: {sorted(ids)}"
            assert len({slot for _, _, slot, _ in seen}) == 1, f"the {shape} changed slot within loop {loop}"


def test_each_object_crosses_the_line_once_in_its_direction(running: Running) -> None:
    async def crossings(seconds: float) -> list[dict[str, Any]]:
        url = f"ws://127.0.0.1:{running.server.port}/api/v1/events?topics=stream.crossing"
        events = []
        async with connect(url, additional_headers={"X-API-Key": ADMIN_KEY}) as ws:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                try:
                    message = json.loads(await asyncio.wait_for(ws.recv(), max(0.05, deadline - time.monotonic())))
                except TimeoutError:
                    break
                events.append(message["data"])
        return events

    events = asyncio.run(crossings(2 * FRAMES / FPS))  # two loops
    by_track: dict[int, list[dict[str, Any]]] = {}
    for event in events:
        by_track.setdefault(event["track_id"], []).append(event)
    assert {e["class_name"] for e in events} == {"square", "circle"}, events
    for track_id, seen in by_track.items():
        assert len(seen) == 1, f"track {track_id} was counted {len(seen)} times: {seen}"
        expected = "out" if seen[0]["class_name"] == "square" else "in"  # the rule of schemas.Line
        assert seen[0]["direction"] == expected, seen[0]
    counts = running.get()["telemetry"]["line_counts"]["middle"]
    assert counts["square"]["in"] == 0 and counts["circle"]["out"] == 0, counts
    assert counts["square"]["out"] >= 1 and counts["circle"]["in"] >= 1, counts
    zone = running.get()["telemetry"]["zone_counts"]["top"]
    assert set(zone) <= {"square"}, zone  # only the square's path is in the top half


def test_telemetry_in_the_api_and_in_prometheus(running: Running) -> None:
    telemetry = running.get()["telemetry"]
    assert 10 <= telemetry["fps_in"] <= 20, telemetry  # the video plays at its own 15 fps
    assert telemetry["fps_proc"] > 5
    for stage in ("capture_to_queue", "inference", "tracking", "publish", "end_to_end"):
        assert telemetry["latency_ms"][stage]["p95"] is not None, stage
    assert telemetry["queue_size"] <= 1 and telemetry["reconnects"] == 0 and telemetry["pid"]
    assert (telemetry["width"], telemetry["height"]) == (256, 256)
    metrics = running.http.get("/metrics").text
    stream = running.stream["id"]
    assert f'stream_fps_in{{stream="{stream}"}}' in metrics
    assert f'stream_status{{status="running",stream="{stream}"}} 1.0' in metrics
    assert f'stream_latency_ms{{quantile="0.95",stage="end_to_end",stream="{stream}"}}' in metrics


def test_latest_tracks_and_previews(running: Running) -> None:
    stream = running.stream["id"]
    tracks = running.http.get(f"/streams/{stream}/tracks").json()
    assert tracks["frame"] and all(0 <= v <= 1 for t in tracks["tracks"] for v in t["box"])
    jpeg = running.http.get(f"/streams/{stream}/preview.jpg")
    assert jpeg.status_code == 200 and jpeg.headers["content-type"] == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(jpeg.content, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (256, 256, 3)
    with running.http.stream("GET", f"/streams/{stream}/preview.mjpeg", params={"fps": 10}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("multipart/x-mixed-replace; boundary=")
        received = b""
        for chunk in response.iter_bytes():
            received += chunk
            if received.count(b"\xff\xd8") >= 2:
                break
    assert received.startswith(b"--frame\r\nContent-Type: image/jpeg") and received.count(b"\xff\xd9") >= 1


def test_changed_settings_apply_without_a_restart(running: Running) -> None:
    stream, before = running.stream["id"], running.get()["telemetry"]["pid"]
    changed = running.http.patch(f"/streams/{stream}", json={"conf": 0.999})
    assert changed.status_code == 200 and changed.json()["conf"] == 0.999
    running.osc.clear()
    quiet = running.osc.wait_for(lambda m: sum(1 for x in m if x.address == f"{PREFIX}count") >= 10, timeout=20)
    counts = [x.args[0] for x in quiet if x.address == f"{PREFIX}count"]
    assert counts[-5:] == [0] * 5, counts  # nothing is that sure: the new threshold is in force
    restored = running.http.patch(f"/streams/{stream}", json={"conf": 0.3})
    assert restored.status_code == 200
    running.osc.clear()
    running.osc.wait_for(lambda m: any(x.address == f"{PREFIX}count" and x.args[0] >= 1 for x in m), timeout=20)
    assert running.get()["telemetry"]["pid"] == before


def test_a_killed_worker_is_marked_failed_and_restarted(running: Running) -> None:
    stream = running.get()
    os.kill(stream["telemetry"]["pid"], signal.SIGKILL)
    failed = running.wait(lambda s: s["telemetry"]["last_error"] and "SIGKILL" in s["telemetry"]["last_error"],
                          timeout=20, what="the kill noticed")
    assert failed["telemetry"]["restarts"] >= 0
    back = running.wait(lambda s: s["status"] == "running" and s["telemetry"]["restarts"] >= 1
                        and s["telemetry"]["pid"] not in (None, stream["telemetry"]["pid"]), what="running again")
    assert back["telemetry"]["last_error"].startswith("the worker was killed by SIGKILL (killed: out of memory, or kill -9)")
