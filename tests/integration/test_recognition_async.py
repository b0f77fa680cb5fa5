"""Big recognition batches (mode=async) through a real server with a real (tiny) trained model: 202 at once,
progress in the row and on WS /events, all results at the end; limits, a full queue, and a restart."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from tests.helpers import ADMIN_KEY, LiveServer, make_settings
from tests.integration.test_recognition_server import jpeg, recognize, upload_model

KIT = json.dumps({"square": 1, "circle": 1})


def sample_photos(data_dir: Path, count: int) -> list[bytes]:
    """The built-in dataset's photos (128 px), repeated up to `count`."""
    found = sorted((data_dir / "datasets/1/images").glob("*/*.jpg"))
    assert found, "the built-in dataset has no photos"
    return [found[i % len(found)].read_bytes() for i in range(count)]


async def wait_for(http: httpx.AsyncClient, recognition_id: int, *statuses: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = (await http.get(f"/recognitions/{recognition_id}")).json()
        if body["status"] in statuses or time.monotonic() > deadline:
            assert body["status"] in statuses, body
            return body
        await asyncio.sleep(0.05)


async def collect_events(url: str, into: list[dict], ready: asyncio.Event) -> None:
    async with connect(url, additional_headers={"X-API-Key": ADMIN_KEY}) as socket:
        ready.set()
        async for message in socket:
            into.append(json.loads(message))


async def test_async_batch_of_120_completes_with_progress_events(live_server: LiveServer, trained_weights) -> None:
    photos = sample_photos(live_server.settings.data_dir, 120)
    events: list[dict] = []
    ready = asyncio.Event()
    ws_url = live_server.url.replace("http", "ws") + "/api/v1/events?topics=recognition"
    listener = asyncio.create_task(collect_events(ws_url, events, ready))
    try:
        await asyncio.wait_for(ready.wait(), 10)
        async with live_server.client(**{"X-On-Behalf-Of": "tg:5"}) as http:
            model = await upload_model(http, trained_weights)
            started = time.monotonic()
            response = await recognize(http, photos, model=str(model["id"]), conf="0.05", kit=KIT, mode="async")
            assert response.status_code == 202, response.text
            queued = response.json()
            assert time.monotonic() - started < 30  # answered before the photos are recognized
            assert response.headers["location"] == f"/api/v1/recognitions/{queued['id']}"
            assert queued["status"] in ("queued", "running") and queued["total"] == 120
            assert queued["images"] == [] and queued["verdict"] is None and queued["error"] is None
            assert queued["on_behalf_of"] == "tg:5" and queued["params"]["kit"] == {"square": 1, "circle": 1}
            folder = live_server.settings.data_dir / "recognitions" / str(queued["id"])
            assert len(list(folder.glob("*.original.jpg"))) == 120  # staged on disk from the 202 on

            seen = []
            while (body := (await http.get(f"/recognitions/{queued['id']}")).json())["status"] in ("queued", "running"):
                seen.append(body["processed"])
                assert body["images"] == [] and body["total"] == 120
                refused = await http.get(f"/recognitions/{queued['id']}/images/0")
                if (await http.get(f"/recognitions/{queued['id']}")).json()["status"] != "completed":
                    assert refused.status_code == 409, refused.text
                    assert refused.json()["error"]["code"] == "recognition_not_completed"
                await asyncio.sleep(0.05)
            assert body["status"] == "completed", body
            assert seen == sorted(seen) and all(0 <= n <= 120 for n in seen)
            assert body["processed"] == body["total"] == 120 and body["error"] is None
            assert [image["index"] for image in body["images"]] == list(range(120))
            verdicts = {image["verdict"] for image in body["images"]}
            assert body["verdict"] == ("complete" if verdicts == {"complete"} else "incomplete")
            assert {"decode", "inference", "total"} <= set(body["timings_ms"])

            # The same photos sent the sync way get the same results.
            sync = await recognize(http, photos[:8], model=str(model["id"]), conf="0.05", kit=KIT)
            assert sync.status_code == 201, sync.text
            assert sync.json()["status"] == "completed" and sync.json()["processed"] == sync.json()["total"] == 8
            strip = ("image_url", "original_url")
            assert ([{k: v for k, v in image.items() if k not in strip} for image in sync.json()["images"]]
                    == [{k: v for k, v in image.items() if k not in strip} for image in body["images"][:8]])

            annotated = await http.get(f"/recognitions/{queued['id']}/images/119")
            assert annotated.status_code == 200 and annotated.headers["content-type"] == "image/jpeg"
            original = await http.get(f"/recognitions/{queued['id']}/images/7", params={"original": "true"})
            assert original.content == photos[7]
            listed = (await http.get("/recognitions", params={"user": "tg:5"})).json()
            assert [(item["id"], item["status"]) for item in listed["items"]] == [
                (sync.json()["id"], "completed"), (queued["id"], "completed")]
        await asyncio.sleep(0.2)  # the last events on their way
    finally:
        listener.cancel()
    mine = [e for e in events if e["data"].get("recognition_id") == queued["id"]]
    progress = [e["data"] for e in mine if e["type"] == "recognition.progress"]
    assert len(progress) == 15  # 120 photos, 8 per model call
    assert [p["processed"] for p in progress] == list(range(8, 121, 8)) and {p["total"] for p in progress} == {120}
    assert mine[-1]["type"] == "recognition.completed", [e["type"] for e in mine]
    assert mine[-1]["data"]["verdict"] == body["verdict"] and mine[-1]["data"]["processed"] == 120


async def test_async_limits_full_queue_and_restart(tmp_path: Path, trained_weights) -> None:
    settings = make_settings(tmp_path / "data", recognition_async_queue=1, recognition_max_async_images=12)
    stored = settings.data_dir / "recognitions"
    gate = threading.Event()
    try:
        with LiveServer(settings) as server:
            async with server.client() as http:
                model = str((await upload_model(http, trained_weights))["id"])
                photos = sample_photos(settings.data_dir, 13)

                too_many = await recognize(http, photos, model=model, mode="async")
                assert too_many.status_code == 422, too_many.text
                assert too_many.json()["error"]["details"]["fields"][0]["field"] == "body.images"
                assert "at most 12" in too_many.json()["error"]["message"]
                bad_mode = await recognize(http, photos[:1], model=model, mode="later")
                assert bad_mode.status_code == 422 and "mode" in bad_mode.text
                not_a_photo = await recognize(http, [photos[0], b"not an image"], model=model, mode="async")
                assert not_a_photo.status_code == 415 and not_a_photo.json()["error"]["code"] == "unsupported_image"

                # The one inference thread is held: the first batch runs (and stays running), the next one waits.
                server.app.state.services.recognizer._inference.submit(gate.wait)
                first = (await recognize(http, photos[:12], model=model, mode="async")).json()
                await wait_for(http, first["id"], "running")
                waiting = await recognize(http, photos[:3], model=model, mode="async")
                assert waiting.status_code == 202 and waiting.json()["status"] == "queued"
                full = await recognize(http, photos[:2], model=model, mode="async", expected_count="1")
                assert full.status_code == 503, full.text
                assert full.json()["error"]["code"] == "busy" and int(full.headers["retry-after"]) > 0
                assert (await http.get("/recognitions")).json()["total"] == 2  # nothing stored for the refused one
                assert sorted(p.name for p in stored.iterdir()) == sorted([str(first["id"]), str(waiting.json()["id"])])
                running = await http.get(f"/recognitions/{first['id']}/images/0", params={"original": "true"})
                assert running.status_code == 409 and running.json()["error"]["code"] == "recognition_not_completed"
        # The server stopped with a batch running and one queued.
        gate.set()
        with LiveServer(settings) as server:
            async with server.client() as http:
                for recognition_id in (first["id"], waiting.json()["id"]):
                    failed = (await http.get(f"/recognitions/{recognition_id}")).json()
                    assert failed["status"] == "failed" and failed["error"] == "interrupted by a restart", failed
                    assert failed["verdict"] is None and failed["images"] == []
                    assert (await http.get(f"/recognitions/{recognition_id}/images/0")).status_code == 409
                again = await recognize(http, photos[:12], model=model, mode="async", expected_count="1")
                assert again.status_code == 202, again.text
                done = await wait_for(http, again.json()["id"], "completed", "failed")
                assert done["status"] == "completed" and done["processed"] == 12 and len(done["images"]) == 12
                assert all(image["expected"] == 1 for image in done["images"])
                sync = await recognize(http, [jpeg()], model=model)
                assert sync.status_code == 201 and sync.json()["status"] == "completed"
                assert (sync.json()["processed"], sync.json()["total"]) == (1, 1)
    finally:
        gate.set()
