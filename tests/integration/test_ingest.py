"""The public ingest API: an external PyTorch run reports into the server like a YOLO run; batches are
idempotent; who may report into what; bad batches are refused naming the first bad point."""

from __future__ import annotations

import asyncio
import math
import subprocess
import sys

import httpx

from tests.helpers import ROOT, LiveServer, assert_error

EXAMPLE = ROOT / "docs" / "examples" / "external_run.py"


async def operator_key(admin: httpx.AsyncClient, name: str = "script") -> str:
    return (await admin.post("/keys", json={"name": name, "role": "operator"})).json()["key"]


async def test_the_documented_example_trains_an_lstm_and_reports_everything(live_server: LiveServer) -> None:
    async with live_server.client() as admin:
        key = await operator_key(admin)
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, str(EXAMPLE), "--url", live_server.url, "--key", key, "--epochs", "4"],
        capture_output=True, text=True, timeout=180, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    session_id = int(done.stdout.split()[1])
    async with live_server.client(key) as http:
        session = (await http.get(f"/sessions/{session_id}")).json()
        assert session["kind"] == "external" and session["status"] == "completed", session
        assert session["task"] == "external" and session["config"] == {"hidden": 16, "lr": 0.01}
        assert session["progress"]["epoch"] == 4 and session["progress"]["percent"] == 100.0
        val = (await http.get(f"/sessions/{session_id}/metrics", params={"key": "val/loss"})).json()
        assert [p["epoch"] for p in val["items"]] == [1, 2, 3, 4] and val["items"][-1]["value"] < val["items"][0]["value"]
        best_epoch = min(val["items"], key=lambda p: p["value"])["epoch"]  # fitness = -val/loss picks the best
        assert session["best_metrics"]["epoch"] == best_epoch
        assert session["latest_metrics"]["val/loss"] == val["items"][-1]["value"]
        steps = (await http.get(f"/sessions/{session_id}/metrics", params={"key": "batch/train/loss", "limit": 100})).json()
        assert steps["total"] == 4 * 8 and [p["step"] for p in steps["items"]] == list(range(32))
        logs = [line["message"] for line in (await http.get(f"/sessions/{session_id}/logs")).json()["items"]]
        assert logs[0].startswith("training an LSTM") and "epoch 4: val loss" in logs[-1]
        chart = await http.get(f"/sessions/{session_id}/chart.png")
        assert chart.content.startswith(b"\x89PNG") and len(chart.content) > 20_000  # two panels with curves
        artifacts = (await http.get(f"/sessions/{session_id}/artifacts")).json()["items"]
        assert [(a["name"], a["role"]) for a in artifacts] == [("lstm.pt", "model")]
        weights = await http.get(f"/sessions/{session_id}/artifacts/{artifacts[0]['id']}")
        assert weights.status_code == 200 and weights.content.startswith(b"PK")  # torch.save's zip
        assert_error(await http.post(f"/sessions/{session_id}/metrics", json={"points": [{"key": "x", "value": 1}]}),
                     409, "session_finished")


async def test_a_retried_batch_is_stored_once_and_a_new_batch_id_is_not(live_server: LiveServer) -> None:
    async with live_server.client() as admin:
        key = await operator_key(admin)
    async with live_server.client(key) as http:
        session_id = (await http.post("/sessions", json={"kind": "external", "name": "retry"})).json()["id"]
        batch = {"batch_id": "b-1", "points": [{"key": "loss", "value": 0.5}, {"key": "loss", "value": 0.4}]}
        first = (await http.post(f"/sessions/{session_id}/metrics", json=batch)).json()
        again = (await http.post(f"/sessions/{session_id}/metrics", json=batch)).json()
        assert (first["accepted"], first["duplicate"]) == (2, False) and (again["accepted"], again["duplicate"]) == (0, True)
        await http.post(f"/sessions/{session_id}/metrics", json={**batch, "batch_id": "b-2"})
        points = (await http.get(f"/sessions/{session_id}/metrics", params={"key": "loss"})).json()["items"]
        assert [(p["step"], p["value"]) for p in points] == [(0, 0.5), (1, 0.4), (2, 0.5), (3, 0.4)]  # steps go on
        logs = {"batch_id": "l-1", "lines": ["one", {"message": "two", "level": "WARNING"}]}
        for _ in range(3):
            assert (await http.post(f"/sessions/{session_id}/logs", json=logs)).status_code == 200
        lines = (await http.get(f"/sessions/{session_id}/logs")).json()["items"]
        assert [(line["level"], line["message"]) for line in lines] == [("INFO", "one"), ("WARNING", "two")]


async def test_bad_batches_are_refused_whole_naming_the_first_bad_point(live_server: LiveServer) -> None:
    async with live_server.client() as http:
        session_id = (await http.post("/sessions", json={"kind": "external", "name": "bad"})).json()["id"]
        path = f"/sessions/{session_id}/metrics"
        good = {"key": "loss", "value": 1.0}
        for bad_value in ("NaN", "Infinity", "-Infinity"):  # what json.dumps(float('nan')) and friends send
            body = f'{{"points": [{{"key": "loss", "value": 1.0}}, {{"key": "loss", "value": {bad_value}}}]}}'
            response = await http.post(path, content=body, headers={"Content-Type": "application/json"})
            details = assert_error(response, 422, "validation_error")
            assert "points.1.value" in str(details), details
        assert_error(await http.post(path, json={"points": [good, {"key": "", "value": 1}]}), 422, "validation_error")
        assert_error(await http.post(path, json={"points": []}), 422, "validation_error")
        too_many = {"points": [{"key": "k", "value": 1.0, "step": i} for i in range(10_001)]}
        assert (await http.post(path, json=too_many)).status_code in (413, 422)
        assert_error(await http.post(path, json={"points": [good], "batch_id": "no spaces"}), 422, "validation_error")
        assert (await http.get(path)).json()["total"] == 0  # nothing of a refused batch was stored
        assert_error(await http.post(f"/sessions/{session_id}/progress", json={"epoch": 5, "epochs": 3}),
                     422, "validation_error")
        assert not math.isnan((await http.post(path, json={"points": [good]})).json()["accepted"])


async def test_who_may_report_into_what(live_server: LiveServer) -> None:
    async with live_server.client() as admin:
        alice, bob = await operator_key(admin, "alice"), await operator_key(admin, "bob")
        viewer = (await admin.post("/keys", json={"name": "v", "role": "viewer"})).json()["key"]
        shapes = (await admin.get("/datasets")).json()["items"][0]["id"]
        trained_here = (await admin.post("/sessions", json={"task": "detect", "model": "yolov8n.yaml",
                                                            "dataset": shapes, "epochs": 1, "imgsz": 64})).json()
    point = {"points": [{"key": "loss", "value": 1.0}]}
    async with live_server.client(alice) as as_alice, live_server.client(bob) as as_bob, \
            live_server.client(viewer) as as_viewer, live_server.client() as as_admin:
        session_id = (await as_alice.post("/sessions", json={"kind": "external", "name": "alice's"})).json()["id"]
        assert_error(await as_bob.post(f"/sessions/{session_id}/metrics", json=point), 403, "not_owner")
        assert_error(await as_viewer.post(f"/sessions/{session_id}/metrics", json=point), 403, "forbidden")
        assert (await as_admin.post(f"/sessions/{session_id}/metrics", json=point)).status_code == 200
        assert_error(await as_admin.post(f"/sessions/{trained_here['id']}/metrics", json=point), 409, "not_external")
        assert_error(await as_alice.post(f"/sessions/{session_id}/resume"), 409, "invalid_transition")
        stopped = (await as_alice.post(f"/sessions/{session_id}/stop")).json()
        assert stopped["stop_requested"] is True
        assert (await as_alice.post(f"/sessions/{session_id}/metrics", json=point)).json()["stop_requested"] is True
        assert (await as_alice.post(f"/sessions/{session_id}/finish", json={"status": "stopped"})).json()["status"] == "stopped"
        assert_error(await as_alice.post(f"/sessions/{session_id}/finish", json={"status": "completed"}), 409, "session_finished")
        for token in ("st_not-a-real-token", "tk_not-a-real-key-at-all-000"):
            async with live_server.client(token) as stranger:
                response = await stranger.post(f"/sessions/{session_id}/metrics", json=point)
                assert response.status_code == 401, response.text


async def test_a_failed_external_run_keeps_its_error_and_log_tail(live_server: LiveServer) -> None:
    async with live_server.client() as http:
        session_id = (await http.post("/sessions", json={"kind": "external", "name": "crash", "epochs": 3})).json()["id"]
        await http.post(f"/sessions/{session_id}/logs", json={"lines": ["loading", "CUDA error: out of memory"]})
        ended = (await http.post(f"/sessions/{session_id}/finish", json={"status": "failed", "error": "OOM"})).json()
        assert ended["status"] == "failed" and ended["error"] == "OOM"
        assert ended["error_tail"][-1] == "CUDA error: out of memory"


async def test_a_session_token_writes_only_to_its_session_and_only_until_the_run_ends(client: httpx.AsyncClient) -> None:
    """The token a cluster worker gets (api/training/ingest/tokens.py), tried on every door."""
    mine = (await client.post("/sessions", json={"kind": "external", "name": "worker's"})).json()["id"]
    other = (await client.post("/sessions", json={"kind": "external", "name": "other"})).json()["id"]
    services = client._transport.app.state.services  # type: ignore[attr-defined]
    token = await services.ingest.tokens.issue(mine, attempt=1)
    as_worker = {"X-API-Key": "", "Authorization": f"Bearer {token}"}  # the client sends the admin key otherwise
    point = {"points": [{"key": "loss", "value": 1.0}]}
    assert (await client.post(f"/sessions/{mine}/metrics", json=point, headers=as_worker)).status_code == 200
    assert (await client.get(f"/sessions/{mine}/artifacts", headers=as_worker)).status_code == 200
    assert_error(await client.post(f"/sessions/{other}/metrics", json=point, headers=as_worker), 403, "token_scope")
    assert_error(await client.post("/sessions", json={"kind": "external", "name": "x"}, headers=as_worker),
                 403, "token_scope")  # a token is not a key: nothing outside its session's reports
    assert (await client.get("/auth/me", headers=as_worker)).status_code == 401
    assert (await client.get("/sessions", headers=as_worker)).status_code == 401
    await client.post(f"/sessions/{mine}/finish", json={"status": "completed"})  # the owner (admin) ends it
    assert_error(await client.post(f"/sessions/{mine}/metrics", json=point, headers=as_worker), 401, "token_expired")
    newer = await services.ingest.tokens.issue(other, attempt=1)
    stale = await services.ingest.tokens.issue(other, attempt=1)  # a new attempt's token ends the older one
    assert_error(await client.post(f"/sessions/{other}/metrics", json=point,
                                   headers={"X-API-Key": "", "Authorization": f"Bearer {newer}"}), 401, "token_expired")
    assert (await client.post(f"/sessions/{other}/metrics", json=point,
                              headers={"X-API-Key": "", "Authorization": f"Bearer {stale}"})).status_code == 200


async def test_an_external_session_whose_script_went_away_is_failed(tmp_path) -> None:  # noqa: ANN001
    from tests.helpers import make_settings

    with LiveServer(make_settings(tmp_path / "data", external_session_timeout_h=2 / 3600)) as server:  # 2 s
        async with server.client() as http:
            quiet = (await http.post("/sessions", json={"kind": "external", "name": "quiet"})).json()["id"]
            chatty = (await http.post("/sessions", json={"kind": "external", "name": "chatty"})).json()["id"]
            status = "running"
            for _ in range(40):  # the sweep runs every 0.5 s here
                await http.post(f"/sessions/{chatty}/logs", json={"lines": ["still here"]})
                status = (await http.get(f"/sessions/{quiet}")).json()["status"]
                if status != "running":
                    break
                await asyncio.sleep(0.25)
            session = (await http.get(f"/sessions/{quiet}")).json()
            assert session["status"] == "failed" and "no report for" in session["error"], session
            assert (await http.get(f"/sessions/{chatty}")).json()["status"] == "running"


async def test_the_bot_follows_an_external_run_like_a_yolo_run(live_server: LiveServer, fake_telegram, tmp_path) -> None:  # noqa: ANN001
    """Progress message edited per reported epoch with the run's own metrics, then the chart when it finishes."""
    from tests.bot_harness import ALLOWED_USER, bot_settings, running_bot

    fake = fake_telegram
    async with running_bot(bot_settings(live_server.url, fake.base_url, tmp_path / "bot"), fake), \
            live_server.client(**{"X-On-Behalf-Of": f"tg:{ALLOWED_USER}"}) as http:
        session_id = (await http.post("/sessions", json={"kind": "external", "name": "lstm", "epochs": 3})).json()["id"]
        progress = await fake.wait_for(lambda c: c.method == "sendMessage" and f"#{session_id}" in c.text, timeout=30)
        message_id = progress.params["_message_id"]
        for epoch in (1, 2, 3):
            await http.post(f"/sessions/{session_id}/metrics", json={"points": [
                {"key": "mse", "value": 1 / epoch, "epoch": epoch}, {"key": "val/mae", "value": 0.5 / epoch, "epoch": epoch}]})
            await http.post(f"/sessions/{session_id}/progress", json={"epoch": epoch, "epochs": 3})
            edit = await fake.wait_for(lambda c, e=epoch: c.method == "editMessageText" and
                                       int(c.params["message_id"]) == message_id and f" {e}/3" in c.text, timeout=30)
            assert f"val/mae {0.5 / epoch:.4g}" in edit.text, edit.text  # the run's own keys, not YOLO's
        await http.post(f"/sessions/{session_id}/finish", json={"status": "completed"})
        chart = await fake.wait_for(lambda c: c.method == "sendPhoto", timeout=30)
        assert f"#{session_id}" in chart.text and chart.chat_id == ALLOWED_USER  # in the owner's language (ru)
        assert next(iter(chart.files.values())).startswith(b"\x89PNG")


async def test_hostile_artifact_names_are_refused_and_a_path_in_a_filename_is_dropped(client: httpx.AsyncClient) -> None:
    session_id = (await client.post("/sessions", json={"kind": "external", "name": "files"})).json()["id"]
    path = f"/sessions/{session_id}/artifacts"
    for name in ("../evil.pt", ".hidden", "a/b", "x" * 101, "semi;colon"):
        assert_error(await client.post(path, files={"file": ("ok.bin", b"data")}, data={"name": name}),
                     422, "validation_error")
    for filename in ("..", "../..", "/"):  # no usable name left once the path is dropped
        assert_error(await client.post(path, files={"file": (filename, b"data")}), 422, "validation_error")
    kept = await client.post(path, files={"file": ("../../etc/weights.pt", b"data")})
    assert kept.status_code == 201 and kept.json()["name"] == "weights.pt"
    assert_error(await client.post(path, files={"file": ("empty.bin", b"")}), 422, "empty_file")
    runs = client._transport.app.state.services.settings.data_dir / "runs"  # type: ignore[attr-defined]
    assert sorted(p.name for p in (runs / str(session_id) / "artifacts").iterdir() if p.is_file()) == ["weights.pt"]
