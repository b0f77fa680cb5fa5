"""Recognition served by ONNX Runtime or torch (same detections), runtime=auto, auto_export, micro-batching of
concurrent requests (fewer model calls, identical results) and the start-up warm-up, with a model trained on the
built-in shapes data."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from api.core.settings import Settings
from api.main import create_app
from tests.helpers import ADMIN_KEY, assert_error


async def upload(http: httpx.AsyncClient, weights: Path) -> dict:
    response = await http.post("/models", files={"file": ("tray.pt", weights.read_bytes())})
    assert response.status_code == 201, response.text
    return response.json()


async def recognize(http: httpx.AsyncClient, photos: list[bytes], model_id: int, **form: str) -> dict:
    files = [("images", (f"p{i}.jpg", data, "image/jpeg")) for i, data in enumerate(photos)]
    response = await http.post("/recognitions", files=files, data={"model": str(model_id), "conf": "0.05", **form},
                               timeout=120)
    assert response.status_code == 201, response.text
    return response.json()


def photos(settings: Settings, count: int) -> list[bytes]:
    return [path.read_bytes() for path in sorted((settings.data_dir / "datasets/1/images/val").iterdir())[:count]]


def same_detections(torch_image: dict, onnx_image: dict) -> None:
    ours = sorted(torch_image["detections"], key=lambda d: (d["name"], d["box"]))
    theirs = sorted(onnx_image["detections"], key=lambda d: (d["name"], d["box"]))
    assert [d["name"] for d in ours] == [d["name"] for d in theirs]
    for a, b in zip(ours, theirs, strict=True):
        assert max(abs(x - y) for x, y in zip(a["box"], b["box"], strict=True)) <= 1.0, (a, b)
        assert abs(a["confidence"] - b["confidence"]) <= 0.01, (a, b)


async def model_calls(http: httpx.AsyncClient) -> float:
    text = (await http.get("/metrics")).text
    return float(re.search(r"^recognition_model_calls (\S+)$", text, re.M).group(1))  # type: ignore[union-attr]


async def test_onnx_serves_the_same_detections_and_auto_picks_it_after_export(
    client: httpx.AsyncClient, settings: Settings, trained_weights: Path
) -> None:
    model = await upload(client, trained_weights)
    shots = photos(settings, 6)
    assert_error(await client.post("/recognitions", files={"images": ("a.jpg", shots[0])},
                                   data={"model": str(model["id"]), "runtime": "onnx"}), 409, "onnx_not_exported")
    before = await recognize(client, shots, model["id"])
    assert before["runtime"] == "torch" and before["params"]["runtime"] == "torch"  # auto, no export yet

    exported = await client.post(f"/models/{model['id']}/export", timeout=300)
    assert exported.status_code == 201, exported.text
    assert exported.json()["imgsz"] == 128  # the training size of the fixture: what torch serves at

    auto = await recognize(client, shots, model["id"])
    torch_run = await recognize(client, shots, model["id"], runtime="torch")
    assert auto["runtime"] == "onnx" and torch_run["runtime"] == "torch"
    assert sum(len(image["detections"]) for image in torch_run["images"]) > 0
    for torch_image, onnx_image in zip(torch_run["images"], auto["images"], strict=True):
        same_detections(torch_image, onnx_image)
        assert torch_image["verdict"] == onnx_image["verdict"]
    listed = (await client.get(f"/recognitions/{auto['id']}")).json()
    assert listed["runtime"] == "onnx"


async def test_concurrent_requests_share_model_calls_and_get_one_by_one_results(
    client: httpx.AsyncClient, settings: Settings, trained_weights: Path
) -> None:
    model = await upload(client, trained_weights)
    shots = photos(settings, 8)
    alone = [await recognize(client, [shot], model["id"]) for shot in shots]
    calls = await model_calls(client)
    together = await asyncio.gather(*(recognize(client, [shot], model["id"]) for shot in shots))
    used = await model_calls(client) - calls
    assert 1 <= used < 8, used
    for one, batched in zip(alone, together, strict=True):
        same_detections(one["images"][0], batched["images"][0])
        assert one["images"][0]["counts"] == batched["images"][0]["counts"]


async def test_auto_export_is_made_in_the_background_and_the_owner_rule_holds(
    client: httpx.AsyncClient, trained_weights: Path, settings: Settings
) -> None:
    model = await upload(client, trained_weights)
    operator = (await client.post("/keys", json={"name": "op", "role": "operator"})).json()["key"]
    refused = await client.patch(f"/models/{model['id']}", json={"auto_export": True}, headers={"X-API-Key": operator})
    assert_error(refused, 403, "not_owner")
    assert_error(await client.patch(f"/models/{model['id']}", json={"auto": 1}), 422, "validation_error")
    changed = await client.patch(f"/models/{model['id']}", json={"auto_export": True})
    assert changed.status_code == 200 and changed.json()["auto_export"] is True
    onnx = settings.data_dir / "models" / f"{model['id']}.onnx"
    for _ in range(600):
        if onnx.is_file():
            break
        await asyncio.sleep(0.2)
    assert onnx.is_file()
    download = await client.get(f"/models/{model['id']}/download", params={"format": "onnx"})
    assert download.status_code == 200 and len(download.content) == onnx.stat().st_size


@pytest.mark.timeout(600)
async def test_a_restart_preloads_the_models_used_last(settings: Settings, trained_weights: Path) -> None:
    async def started() -> tuple[LifespanManager, httpx.AsyncClient, FastAPI]:
        app = create_app(settings)
        manager = await LifespanManager(app, startup_timeout=120).__aenter__()
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://test/api/v1",
                                 headers={"X-API-Key": ADMIN_KEY})
        return manager, http, app

    manager, http, _ = await started()
    model = await upload(http, trained_weights)
    await recognize(http, photos(settings, 1), model["id"])
    await http.aclose()
    await manager.__aexit__(None, None, None)

    manager, http, app = await started()
    try:
        recognizer = app.state.services.recognizer
        for _ in range(300):  # loaded in the background, before anyone asks
            if (model["id"], "torch") in recognizer.cache:
                break
            await asyncio.sleep(0.1)
        assert (model["id"], "torch") in recognizer.cache
    finally:
        await http.aclose()
        await manager.__aexit__(None, None, None)
