"""Bad session requests: each bad field gets a 422 naming it; state rules give 404/409. No training here."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.training_helpers import TINY


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"task": "segment"}, "body.task"),
        ({"model": "resnet50.yaml"}, "body.model"),
        ({"model": "../../etc/passwd"}, "body.model"),
        ({"model": "yolo11n-cls.yaml"}, "body.model"),
        ({"model": 999}, "body.model"),
        ({"dataset": 999}, "body.dataset"),
        ({"dataset": 2}, "body.dataset"),
        ({"epochs": 0}, "body.epochs"),
        ({"epochs": 10001}, "body.epochs"),
        ({"imgsz": 100}, "body.imgsz"),
        ({"imgsz": 4096}, "body.imgsz"),
        ({"batch": 0}, "body.batch"),
        ({"device": "cuda:0; rm -rf /"}, "body.device"),
        ({"device": "3"}, "body.device"),
        ({"lr0": -1}, "body.lr0"),
    ],
)
async def test_bad_fields_get_422_naming_them(client: httpx.AsyncClient, overrides: dict, field: str) -> None:
    response = await client.post("/sessions", json={**TINY, "epochs": 1, **overrides})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert field in [f["field"] for f in error["details"]["fields"]]
    assert (await client.get("/sessions")).json()["total"] == 0  # nothing half-created


async def test_missing_required_fields_are_all_named(client: httpx.AsyncClient) -> None:
    response = await client.post("/sessions", json={})
    fields = {f["field"] for f in response.json()["error"]["details"]["fields"]}
    assert {"body.task", "body.model", "body.dataset", "body.epochs"} <= fields


async def test_classification_defaults_fit_the_dataset(client: httpx.AsyncClient) -> None:
    response = await client.post("/sessions", json={"task": "classify", "model": "yolo11n-cls.yaml", "dataset": 2,
                                                    "epochs": 1, "priority": -5})
    assert response.status_code == 201
    session = response.json()
    assert session["config"]["imgsz"] == 128 and session["config"]["device"] == "auto"
    assert session["name"] == "yolo11n-cls-shapes-cls"
    await client.post(f"/sessions/{session['id']}/stop")


async def test_unknown_session_is_404_and_running_rules_are_409(client: httpx.AsyncClient) -> None:
    for method, path in (("GET", "/sessions/999"), ("POST", "/sessions/999/stop"), ("POST", "/sessions/999/resume"),
                         ("DELETE", "/sessions/999"), ("GET", "/sessions/999/metrics"),
                         ("GET", "/sessions/999/logs"), ("GET", "/sessions/999/chart.png")):
        response = await client.request(method, path)
        assert response.status_code == 404, (method, path)
        assert response.json()["error"]["code"] == "session_not_found"
    bad = await client.get("/sessions/abc")
    assert bad.status_code == 422


async def test_queued_session_cancels_deletes_and_a_running_one_refuses_delete(client: httpx.AsyncClient) -> None:
    blocker = (await client.post("/sessions", json={**TINY, "epochs": 500})).json()
    waiting = (await client.post("/sessions", json={**TINY, "epochs": 1})).json()
    for _ in range(200):
        if (await client.get(f"/sessions/{blocker['id']}")).json()["status"] == "running":
            break
        await asyncio.sleep(0.05)
    refused = await client.delete(f"/sessions/{blocker['id']}")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "session_running"

    cancelled = await client.post(f"/sessions/{waiting['id']}/stop")
    assert cancelled.json()["status"] == "cancelled"
    resume = await client.post(f"/sessions/{waiting['id']}/resume")
    assert resume.status_code == 409 and resume.json()["error"]["details"] == {"status": "cancelled"}
    assert (await client.delete(f"/sessions/{waiting['id']}")).status_code == 204
    assert (await client.get(f"/sessions/{waiting['id']}")).status_code == 404


async def test_viewer_cannot_create_or_stop(client: httpx.AsyncClient) -> None:
    viewer = (await client.post("/keys", json={"name": "v", "role": "viewer"})).json()["key"]
    response = await client.post("/sessions", json={**TINY, "epochs": 1}, headers={"X-API-Key": viewer})
    assert response.status_code == 403
    assert (await client.get("/sessions", headers={"X-API-Key": viewer})).status_code == 200
    assert (await client.get("/queue", headers={"X-API-Key": viewer})).status_code == 200
