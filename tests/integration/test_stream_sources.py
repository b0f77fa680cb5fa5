"""Streams: refused input, an MJPEG camera that goes away and comes back, YAML config, restarts with the server."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.helpers import ADMIN_KEY, LiveServer, assert_error, make_settings
from tests.stream_helpers import MjpegCamera
from tests.videos import write_video


class Api:
    def __init__(self, server: LiveServer, model_id: int, video_id: int) -> None:
        self.server, self.model_id, self.video_id = server, model_id, video_id
        self.http = httpx.Client(base_url=f"{server.url}/api/v1", headers={"X-API-Key": ADMIN_KEY}, timeout=30)

    def key(self, role: str) -> dict[str, str]:
        response = self.http.post("/keys", json={"name": f"{role}-{time.monotonic_ns()}", "role": role})
        assert response.status_code == 201, response.text
        return {"X-API-Key": response.json()["key"]}

    def body(self, **changes: Any) -> dict[str, Any]:
        return {"name": f"s{time.monotonic_ns()}", "source": f"video:{self.video_id}", "model": self.model_id,
                "enabled": False, **changes}

    def wait(self, stream_id: int, predicate: Any, timeout: float = 60) -> dict[str, Any]:
        deadline, stream = time.monotonic() + timeout, {}
        while time.monotonic() < deadline:
            stream = self.http.get(f"/streams/{stream_id}").json()
            if predicate(stream):
                return stream
            time.sleep(0.2)
        raise AssertionError(f"stream {stream_id}: {stream.get('status')} {stream.get('telemetry')}")


def _serve(data_dir: Path, weights: Path, video: Path) -> tuple[LiveServer, Api]:
    server = LiveServer(make_settings(data_dir, stream_hang_timeout_s=5)).__enter__()
    http = httpx.Client(base_url=f"{server.url}/api/v1", headers={"X-API-Key": ADMIN_KEY}, timeout=30)
    model = http.post("/models", files={"file": ("tracker.pt", weights.read_bytes())}).json()["id"]
    uploaded = http.post("/videos", files={"file": ("paths.mp4", video.read_bytes())}).json()["id"]
    return server, Api(server, model, uploaded)


@pytest.fixture(scope="module")
def api(tracking_weights: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("stream-sources")
    server, api = _serve(root / "data", tracking_weights, write_video(root / "paths.mp4", frames=30))
    try:
        yield api
    finally:
        api.http.close()
        server.__exit__(None, None, None)


@pytest.mark.parametrize(("changes", "field"), [
    ({"source": "ftp://camera/1"}, "source"),
    ({"source": "video:999999"}, "source"),
    ({"model": 999999}, "model"),
    ({"roi": [0.5, 0.5, 0.2, 0.9]}, "roi"),
    ({"roi": [0, 0, 1.5, 1]}, "roi"),
    ({"zones": [{"name": "z", "points": [[0, 0], [2, 0], [1, 1]]}]}, "zones"),
    ({"lines": [{"name": "l", "start": [0.5, 0.5], "end": [0.5, 0.5]}]}, "lines"),
    ({"sinks": {"osc": {"port": 70000}}}, "port"),
    ({"sinks": {"osc": {"host": "not a host"}}}, "host"),
    ({"classes": ["wrench"]}, "classes"),
    ({"tracker": "sort"}, "tracker"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_definitions_are_refused_naming_the_field_and_nothing_starts(api: Api, changes: dict[str, Any],
                                                                         field: str) -> None:
    before = api.http.get("/streams").json()["total"]
    response = api.http.post("/streams", json=api.body(**changes))
    assert response.status_code == 422, response.text
    fields = " ".join(f["field"] for f in response.json()["error"]["details"]["fields"])
    assert field in fields, response.json()
    assert api.http.get("/streams").json()["total"] == before


def test_roles_a_local_camera_is_for_admins_and_viewers_only_read(api: Api) -> None:
    operator, viewer = api.key("operator"), api.key("viewer")
    assert_error(api.http.post("/streams", json=api.body(), headers=operator), 403, "forbidden")
    created = api.http.post("/streams", json=api.body()).json()
    assert api.http.get(f"/streams/{created['id']}", headers=viewer).status_code == 200
    assert_error(api.http.post(f"/streams/{created['id']}/start", headers=viewer), 403, "forbidden")
    assert_error(api.http.patch(f"/streams/{created['id']}", json={"source": "device:0"}, headers=operator), 403,
                 "forbidden_source")
    assert api.http.patch(f"/streams/{created['id']}", json={"conf": 0.4}, headers=operator).json()["conf"] == 0.4
    assert_error(api.http.delete(f"/streams/{created['id']}", headers=operator), 403, "forbidden")
    assert_error(api.http.get("/streams/config", headers=operator), 403, "forbidden")
    assert api.http.delete(f"/streams/{created['id']}").status_code == 204
    assert_error(api.http.get(f"/streams/{created['id']}"), 404, "stream_not_found")


def test_a_camera_password_is_masked_for_readers(api: Api) -> None:
    created = api.http.post("/streams", json=api.body(source="rtsp://cam:s3cret@127.0.0.1:9/live")).json()
    assert created["source"] == "rtsp://cam:***@127.0.0.1:9/live"
    assert "s3cret" not in api.http.get("/streams").text
    assert "s3cret" in api.http.get("/streams/config").text  # the admin's export is what re-imports
    api.http.delete(f"/streams/{created['id']}")


def test_an_mjpeg_camera_that_goes_away_is_reconnected(api: Api) -> None:
    camera = MjpegCamera(fps=15).start()
    try:
        stream = api.http.post("/streams", json=api.body(source=camera.url, enabled=True, conf=0.3, iou=0.45)).json()
        api.wait(stream["id"], lambda s: s["status"] == "running" and s["telemetry"]["frames_processed"] > 10)
        tracks = api.http.get(f"/streams/{stream['id']}/tracks").json()["tracks"]
        assert {t["name"] for t in tracks} & {"square", "circle"}, tracks
        camera.stop()
        gone = api.wait(stream["id"], lambda s: s["status"] == "reconnecting", timeout=30)
        assert gone["telemetry"]["last_error"]
        camera.start()
        back = api.wait(stream["id"], lambda s: s["status"] == "running", timeout=60)
        assert back["telemetry"]["reconnects"] >= 1
    finally:
        camera.stop()
    api.http.post(f"/streams/{stream['id']}/stop")
    assert api.wait(stream["id"], lambda s: s["status"] == "stopped", timeout=20)["enabled"] is False


def test_a_hung_worker_is_killed_and_restarted(api: Api) -> None:
    stream = api.http.post("/streams", json=api.body(enabled=True)).json()
    running = api.wait(stream["id"], lambda s: s["status"] == "running" and s["telemetry"]["pid"])
    os.kill(running["telemetry"]["pid"], signal.SIGSTOP)  # as a decoder stuck in a read: alive, silent
    hung = api.wait(stream["id"], lambda s: "sent nothing" in (s["telemetry"]["last_error"] or ""), timeout=20)
    assert hung["telemetry"]["last_error"] == "the worker sent nothing for 5 s (hung) and was killed"
    back = api.wait(stream["id"], lambda s: s["status"] == "running" and s["telemetry"]["restarts"] >= 1
                    and s["telemetry"]["pid"] not in (None, running["telemetry"]["pid"]))
    assert back["enabled"] is True
    api.http.delete(f"/streams/{stream['id']}")


def test_a_source_that_never_opens_keeps_reconnecting_and_the_server_stays_up(api: Api) -> None:
    stream = api.http.post("/streams", json=api.body(source="http://127.0.0.1:9/none.mjpg", enabled=True)).json()
    failing = api.wait(stream["id"], lambda s: s["status"] == "reconnecting", timeout=30)
    assert "cannot open http://127.0.0.1:9/none.mjpg" in failing["telemetry"]["last_error"]
    assert api.http.get("/health").status_code == 200
    api.http.delete(f"/streams/{stream['id']}")


def test_the_yaml_config_round_trips_and_errors_name_line_and_field(api: Api) -> None:
    for name in ("door", "yard"):
        api.http.post("/streams", json=api.body(name=name, conf=0.4, sinks={"osc": {"port": 7001}}))
    exported = api.http.get("/streams/config")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("application/yaml")
    text = exported.text
    assert api.http.put("/streams/config", content=text, headers={"Content-Type": "application/yaml"}).json()[
        "unchanged"] == sorted(s["name"] for s in api.http.get("/streams").json()["items"])
    assert api.http.get("/streams/config").text == text
    document = yaml.safe_load(text)
    document["cameras"][0]["tracking"] = {"conf": "high"}
    sent = yaml.safe_dump(document, sort_keys=False)
    broken = api.http.put("/streams/config", content=sent, headers={"Content-Type": "application/yaml"})
    details = assert_error(broken, 422, "validation_error")
    field = details["fields"][0]
    bad_line = next(n for n, line in enumerate(sent.splitlines(), 1) if "conf: high" in line)
    assert (field["field"], field["line"]) == ("cameras[0].tracking.conf", bad_line), (details, sent)
    assert api.http.get("/streams/config").text == text  # nothing changed
    document = yaml.safe_load(text)
    document["cameras"] = [c for c in document["cameras"] if c["name"] != "yard"]
    document["cameras"][0]["tracking"] = {"conf": 0.6}
    applied = api.http.put("/streams/config", content=yaml.safe_dump(document, sort_keys=False),
                           headers={"Content-Type": "application/yaml"}).json()
    assert "yard" in applied["deleted"] and applied["updated"] == [document["cameras"][0]["name"]]


def test_enabled_streams_start_again_when_the_server_starts(tracking_weights: Path, tmp_path: Path) -> None:
    server, api = _serve(tmp_path / "data", tracking_weights, write_video(tmp_path / "v.mp4", frames=30))
    try:
        on = api.http.post("/streams", json=api.body(name="on", enabled=True)).json()
        off = api.http.post("/streams", json=api.body(name="off")).json()
        api.wait(on["id"], lambda s: s["status"] == "running")
    finally:
        api.http.close()
        server.__exit__(None, None, None)
    again = LiveServer(make_settings(tmp_path / "data")).__enter__()
    try:
        api = Api(again, api.model_id, api.video_id)
        assert api.wait(on["id"], lambda s: s["status"] == "running")["enabled"] is True
        assert api.http.get(f"/streams/{off['id']}").json()["status"] == "stopped"
    finally:
        api.http.close()
        again.__exit__(None, None, None)
