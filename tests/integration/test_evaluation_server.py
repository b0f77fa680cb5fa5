"""POST /models/{id}/evaluate runs through the queue and gives exactly what Ultralytics' model.val() gives."""

from __future__ import annotations

import asyncio

import pytest

from tests.helpers import LiveServer

pytestmark = pytest.mark.training


async def test_evaluation_equals_ultralytics_val(live_server: LiveServer, trained_weights) -> None:
    async with live_server.client() as http:
        model = (await http.post("/models", files={"file": ("m.pt", trained_weights.read_bytes())})).json()
        created = await http.post(f"/models/{model['id']}/evaluate",
                                  json={"dataset": 1, "split": "val", "conf": 0.001, "iou": 0.6, "imgsz": 128})
        assert created.status_code == 201, created.text
        evaluation = created.json()
        assert evaluation["status"] in ("queued", "running") and evaluation["metrics"] is None
        session = (await http.get(f"/sessions/{evaluation['session_id']}")).json()
        assert session["kind"] == "evaluate"
        async with asyncio.timeout(120):
            while evaluation["status"] in ("queued", "running"):
                await asyncio.sleep(0.3)
                evaluation = (await http.get(f"/evaluations/{evaluation['id']}")).json()
        assert evaluation["status"] == "completed", evaluation["error"]
        bad = await http.post(f"/models/{model['id']}/evaluate", json={"dataset": 2})
        assert bad.status_code == 422 and bad.json()["error"]["details"]["fields"][0]["field"] == "body.dataset"
        assert (await http.post("/models/999/evaluate", json={"dataset": 1})).status_code == 404
        assert (await http.get("/evaluations/999")).status_code == 404

    from ultralytics import YOLO

    data_yaml = live_server.settings.data_dir / "runs" / str(evaluation["session_id"]) / "data.yaml"
    results = YOLO(str(trained_weights)).val(data=str(data_yaml), split="val", conf=0.001, iou=0.6, imgsz=128,
                                             batch=16, device="cpu", plots=False, verbose=False,
                                             project=str(data_yaml.parent), name="reference")
    expected = {"precision": results.box.mp, "recall": results.box.mr, "mAP50": results.box.map50,
                "mAP50-95": results.box.map}
    assert any(evaluation["metrics"].values()), "a model that learned nothing would make this comparison trivial"
    for key, value in expected.items():
        assert evaluation["metrics"][key] == pytest.approx(value, abs=1e-4), key
    for position, class_index in enumerate(results.ap_class_index):
        name = results.names[int(class_index)]
        assert evaluation["per_class"][name]["mAP50"] == pytest.approx(results.box.class_result(position)[2], abs=1e-4)
