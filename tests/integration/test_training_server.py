"""Real training on the built-in shapes data through a real server (tiny: imgsz 64, 1-3 epochs)."""

from __future__ import annotations

import asyncio
import json
import signal

import psutil
import pytest

from tests.helpers import LiveServer, make_settings
from tests.training_helpers import create_session, wait_for, wait_status

pytestmark = pytest.mark.training


async def test_session_trains_to_completion_with_metrics_logs_and_a_model(live_server: LiveServer) -> None:
    async with live_server.client(**{"X-On-Behalf-Of": "tg:42"}) as http:
        created = await create_session(http, epochs=2, name="first")
        assert created["status"] == "queued" and created["config"]["imgsz"] == 64
        assert created["on_behalf_of"] == "tg:42"
        running = await wait_status(http, created["id"], "running", "completed")
        assert running["device"] == "cpu"
        done = await wait_status(http, created["id"], "completed")

        assert done["progress"]["epoch"] == 2 and done["progress"]["percent"] == 100.0
        assert done["result_model_id"] is not None and done["error"] is None
        assert {"metrics/mAP50(B)", "train/box_loss", "val/box_loss", "lr/pg0", "epoch_time"} <= set(
            done["latest_metrics"])
        history = (await http.get(f"/sessions/{created['id']}/metrics", params={"key": "train/box_loss"})).json()
        assert [(p["step"], p["epoch"]) for p in history["items"]] == [(1, 1), (2, 2)]
        ranged = (await http.get(f"/sessions/{created['id']}/metrics",
                                 params={"key": "train/box_loss", "epoch_from": 2})).json()
        assert [p["epoch"] for p in ranged["items"]] == [2]
        batches = (await http.get(f"/sessions/{created['id']}/metrics",
                                  params={"key": "batch/train/box_loss"})).json()
        assert batches["total"] >= 2
        columns = (await http.get(f"/sessions/{created['id']}/metrics", params={
            "key": "train/box_loss", "format": "columns", "limit": 100000, "fields": "steps,epochs,values,ts"})).json()
        assert columns["steps"] == [1, 2] and columns["epochs"] == [1, 2] and columns["key"] == "train/box_loss"
        assert columns["values"] == pytest.approx([p["value"] for p in history["items"]], rel=1e-13)
        assert columns["ts"] == pytest.approx([p["ts"] for p in history["items"]], abs=1e-3)
        assert columns["total"] == 2
        assert set((await http.get(f"/sessions/{created['id']}/metrics",
                                   params={"key": "train/box_loss", "format": "columns"})).json()) == {
            "key", "total", "steps", "values"}
        page = (await http.get(f"/sessions/{created['id']}/metrics",
                               params={"key": "train/box_loss", "format": "columns", "limit": 1, "offset": 1})).json()
        assert page["steps"] == [2] and page["total"] == 2
        for bad in ({"format": "columns"}, {"limit": 5000}, {"key": "x", "format": "columns", "fields": "steps,bogus"}):
            refused = await http.get(f"/sessions/{created['id']}/metrics", params=bad)
            assert refused.status_code == 422 and refused.json()["error"]["code"] == "validation_error"
        latest = (await http.get(f"/sessions/{created['id']}/metrics/latest")).json()
        assert latest["epoch"] == 2 and latest["metrics"] == done["latest_metrics"]

        logs = (await http.get(f"/sessions/{created['id']}/logs", params={"limit": 1000})).json()
        messages = [line["message"] for line in logs["items"]]
        assert any("Starting training for 2 epochs" in m for m in messages)
        assert not any("\x1b[" in m for m in messages)  # colour codes stripped

        model = (await http.get(f"/models/{done['result_model_id']}")).json()
        assert model["session_id"] == created["id"] and model["source"] == "training"
        assert model["classes"] == ["square", "circle", "triangle"] and model["architecture"] == "yolov8n"
        assert "metrics/mAP50(B)" in model["metrics"]
        download = await http.get(f"/models/{model['id']}/download")
        assert download.status_code == 200 and len(download.content) == model["size_bytes"]

        chart = await http.get(f"/sessions/{created['id']}/chart.png")
        assert chart.status_code == 200 and chart.content[:8] == b"\x89PNG\r\n\x1a\n"
    # Ultralytics' label caches land in the run directory, never in the dataset store.
    data_dir = live_server.settings.data_dir
    assert not list((data_dir / "datasets").rglob("*.cache"))
    assert list((data_dir / "runs" / str(created["id"])).rglob("*.cache"))


async def test_queue_waits_at_the_limit_and_priority_reorders(live_server: LiveServer) -> None:
    async with live_server.client() as http:
        first = await create_session(http, epochs=2)
        await wait_status(http, first["id"], "running")
        low = await create_session(http, name="low")
        high = await create_session(http, name="high", priority=5)
        queue = (await http.get("/queue")).json()
        assert [s["id"] for s in queue["running"]] == [first["id"]]
        assert [s["id"] for s in queue["queued"]] == [high["id"], low["id"]]
        bumped = await http.patch(f"/sessions/{low['id']}", json={"priority": 9})
        assert bumped.status_code == 200 and bumped.json()["priority"] == 9
        queue = (await http.get("/queue")).json()
        assert [s["id"] for s in queue["queued"]] == [low["id"], high["id"]]

        await wait_status(http, first["id"], "completed")
        await wait_status(http, low["id"], "running", "completed")
        assert (await http.get(f"/sessions/{high['id']}")).json()["status"] == "queued"
        cancelled = await http.post(f"/sessions/{high['id']}/stop")
        assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
        await wait_status(http, low["id"], "completed")
        again = await http.post(f"/sessions/{high['id']}/stop")
        assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"


async def test_stop_gives_stopped_within_seconds_and_resume_completes(live_server: LiveServer) -> None:
    async with live_server.client() as http:
        session = await create_session(http, epochs=3)
        await wait_for(http, session["id"], lambda s: s["progress"]["epoch"] >= 1, what="first epoch")
        stop = await http.post(f"/sessions/{session['id']}/stop")
        assert stop.status_code == 200 and stop.json()["stop_requested"] is True
        stopped = await wait_status(http, session["id"], "stopped", "completed", timeout=30)
        assert stopped["status"] == "stopped" and stopped["result_model_id"] is None
        assert stopped["progress"]["epoch"] < 3

        resumed = await http.post(f"/sessions/{session['id']}/resume")
        assert resumed.status_code == 200 and resumed.json()["status"] == "queued"
        done = await wait_status(http, session["id"], "completed", "failed")
        assert done["status"] == "completed", done["error_tail"]
        assert done["attempts"] == 2 and done["progress"]["epoch"] == 3
        logs = (await http.get(f"/sessions/{session['id']}/logs", params={"limit": 1000})).json()
        assert any("Resuming training" in line["message"] for line in logs["items"])
        assert (await http.post(f"/sessions/{session['id']}/resume")).status_code == 409


@pytest.mark.reliability
async def test_killed_child_fails_the_session_with_reason_and_the_queue_moves_on(live_server: LiveServer) -> None:
    async with live_server.client() as http:
        victim = await create_session(http, epochs=50)
        follower = await create_session(http)
        await wait_for(http, victim["id"], lambda s: s["progress"]["batches"] > 0, what="training started")
        children = psutil.Process().children(recursive=False)
        trainers = [c for c in children if "spawn" in " ".join(c.cmdline())]
        assert len(trainers) == 1
        trainers[0].send_signal(signal.SIGKILL)
        failed = await wait_status(http, victim["id"], "failed", timeout=30)
        assert "SIGKILL" in failed["error"] and failed["error_tail"]
        await wait_status(http, follower["id"], "running", "completed")


async def test_logs_follow_streams_until_the_run_ends(live_server: LiveServer) -> None:
    async with live_server.client() as http:
        session = await create_session(http)
        events: list[tuple[str, str]] = []
        async with http.stream("GET", f"/sessions/{session['id']}/logs", params={"follow": "true"},
                               timeout=120) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            event = None
            async for line in stream.aiter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event:
                    events.append((event, line[6:]))
    kinds = [kind for kind, _ in events]
    assert kinds[-1] == "end" and json.loads(events[-1][1])["status"] == "completed"
    assert kinds.count("log") > 10
    assert any("Starting training" in json.loads(data)["message"] for kind, data in events if kind == "log")


async def test_session_events_go_out_on_the_socket(live_server: LiveServer) -> None:
    from websockets.asyncio.client import connect

    from tests.helpers import ADMIN_KEY

    ws_url = live_server.url.replace("http", "ws") + f"/api/v1/events?api_key={ADMIN_KEY}&topics=session,log"
    async with connect(ws_url) as socket, live_server.client() as http:
        session = await create_session(http)
        seen: set[str] = set()
        async with asyncio.timeout(120):
            while True:
                event = json.loads(await socket.recv())
                seen.add(event["type"])
                if event["type"] == "session.status" and event["data"]["status"] == "completed":
                    break
    assert {"session.status", "session.started", "session.epoch", "log.line"} <= seen
    assert session["id"]


async def test_two_slots_run_two_sessions_at_once(tmp_path) -> None:
    with LiveServer(make_settings(tmp_path / "data", max_concurrent_sessions=2)) as server:
        async with server.client() as http:
            first, second = await create_session(http, epochs=2), await create_session(http, epochs=2)
            await wait_status(http, first["id"], "running")
            await wait_status(http, second["id"], "running")
            for session in (first, second):
                await wait_status(http, session["id"], "completed")


async def test_uploaded_dataset_trains_and_an_uploaded_model_fine_tunes(
    live_server: LiveServer, tmp_path, trained_weights
) -> None:
    from tests.archives import detection_folder, zip_folder

    async with live_server.client() as http:
        archive = zip_folder(detection_folder(tmp_path / "d"))
        dataset = (await http.post("/datasets", files={"file": ("mine.zip", archive)})).json()
        model = (await http.post("/models", files={"file": ("base.pt", trained_weights.read_bytes())})).json()
        on_upload = await create_session(http, dataset=dataset["id"])
        fine_tune = await create_session(http, model=model["id"])
        assert fine_tune["base_model_id"] == model["id"]
        for session in (on_upload, fine_tune):
            done = await wait_status(http, session["id"], "completed", "failed")
            assert done["status"] == "completed", done["error_tail"]
        tuned = (await http.get(f"/models/{done['result_model_id']}")).json()
    assert tuned["architecture"] == "yolov8n" and tuned["classes"] == model["classes"]
