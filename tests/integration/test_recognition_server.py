"""Recognition through a real server with a real (tiny) trained model: shape of the answer, verdicts,
history, annotated images, hostile images, and nothing half-stored."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import httpx
from PIL import Image

from tests.helpers import ADMIN_KEY, LiveServer


def jpeg(size: tuple[int, int] = (160, 120), colour: str = "red", **save: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG", **save)
    return buffer.getvalue()


async def upload_model(http: httpx.AsyncClient, weights: Path) -> dict:
    response = await http.post("/models", files={"file": ("tray.pt", weights.read_bytes())})
    assert response.status_code == 201, response.text
    return response.json()


async def recognize(http: httpx.AsyncClient, images: list[bytes], **form: str) -> httpx.Response:
    files = [("images", (f"p{i}.jpg", data, "image/jpeg")) for i, data in enumerate(images)]
    return await http.post("/recognitions", files=files, data=form, timeout=60)


async def test_batch_recognition_with_kit_is_stored_and_annotated(live_server: LiveServer, trained_weights) -> None:
    data_dir = live_server.settings.data_dir
    photos = [(data_dir / "datasets/1/images/val" / f"0000{i}.jpg").read_bytes() for i in range(3)]
    async with live_server.client(**{"X-On-Behalf-Of": "tg:7"}) as http:
        model = await upload_model(http, trained_weights)
        response = await recognize(http, photos, model=str(model["id"]), conf="0.001",
                                   kit=json.dumps({"square": 1, "circle": 1}))
        assert response.status_code == 201, response.text
        result = response.json()
        assert result["on_behalf_of"] == "tg:7" and result["model_id"] == model["id"]
        assert len(result["images"]) == 3
        for image in result["images"]:
            assert (image["width"], image["height"]) == (128, 128)
            counted = {}
            for detection in image["detections"]:
                assert detection["name"] in model["classes"] and 0.001 <= detection["confidence"] <= 1
                assert all(0 <= v <= 1 for v in detection["box_normalized"])
                counted[detection["name"]] = counted.get(detection["name"], 0) + 1
            assert image["counts"] == counted and image["found"] == sum(counted.values())
            balanced = {n: counted.get(n, 0) + image["missing"].get(n, 0) - image["extra"].get(n, 0)
                        for n in set(counted) | {"square", "circle"}}
            assert {k: v for k, v in balanced.items() if v} == {"square": 1, "circle": 1}
            assert image["verdict"] == ("complete" if counted == {"square": 1, "circle": 1} else "incomplete")
        assert set(result["timings_ms"]) == {"decode", "queue_wait", "inference", "postprocess", "store", "total"}

        folder = data_dir / "recognitions" / str(result["id"])
        assert not (folder / "1.jpg").exists()  # drawn when first asked for, then kept
        annotated = await http.get(result["images"][1]["image_url"].removeprefix("/api/v1"))
        assert annotated.status_code == 200 and annotated.headers["content-type"] == "image/jpeg"
        assert (folder / "1.jpg").read_bytes() == annotated.content
        drawn = Image.open(io.BytesIO(annotated.content))
        assert drawn.size == (128, 128) and drawn.tobytes() != Image.open(io.BytesIO(photos[1])).convert("RGB").tobytes()
        original = await http.get(result["images"][1]["original_url"].removeprefix("/api/v1"))
        assert original.content == photos[1]
        assert (await http.get(f"/recognitions/{result['id']}/images/3")).status_code == 404

        listed = (await http.get("/recognitions", params={"user": "tg:7", "model": model["id"]})).json()
        assert [item["id"] for item in listed["items"]] == [result["id"]]
        assert (await http.get("/recognitions", params={"user": "tg:8"})).json()["total"] == 0
        assert (await http.get("/recognitions", params={"verdict": result["verdict"]})).json()["total"] == 1
        metrics = (await http.get("/metrics")).text
        assert 'recognition_stage_seconds_count{stage="inference"} 1.0' in metrics
        assert 'recognition_stage_seconds_count{stage="annotate"} 1.0' in metrics

        assert (await http.delete(f"/recognitions/{result['id']}")).status_code == 204
        assert (await http.get(f"/recognitions/{result['id']}")).status_code == 404
    assert not (data_dir / "recognitions" / str(result["id"])).exists()


async def test_expected_count_and_exif_rotation(live_server: LiveServer, trained_weights) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees: a 160x120 file shows as 120x160
    async with live_server.client() as http:
        model = await upload_model(http, trained_weights)
        response = await recognize(http, [jpeg(exif=exif.tobytes())], model=str(model["id"]), expected_count="0",
                                   conf="0.99")
    image = response.json()["images"][0]
    assert (image["width"], image["height"]) == (120, 160)
    assert image["expected"] == 0 and image["verdict"] == ("complete" if image["found"] == 0 else "incomplete")


async def test_bad_recognition_requests_are_4xx_and_store_nothing(live_server: LiveServer, trained_weights) -> None:
    async with live_server.client() as http:
        model = (await upload_model(http, trained_weights))["id"]
        cases = [
            (await recognize(http, [b"not an image"], model=str(model)), 415, "unsupported_image"),
            (await recognize(http, [jpeg()[:200]], model=str(model)), 422, "invalid_image"),
            (await recognize(http, [_gif()], model=str(model)), 415, "unsupported_image"),
            (await recognize(http, [_huge_png()], model=str(model)), 422, "invalid_image"),
            (await recognize(http, [jpeg()], model="999"), 404, "model_not_found"),
            (await recognize(http, [jpeg()], model=str(model), conf="1.5"), 422, "validation_error"),
            (await recognize(http, [jpeg()], model=str(model), kit="[1,2]"), 422, "validation_error"),
            (await recognize(http, [jpeg()], model=str(model), kit='{"spanner": 1}'), 422, "validation_error"),
            (await recognize(http, [jpeg()], model=str(model), kit='{"square": 1}', expected_count="1"), 422,
             "validation_error"),
            (await recognize(http, [jpeg()] * 33, model=str(model)), 422, "validation_error"),
            (await recognize(http, [], model=str(model)), 422, "validation_error"),
        ]
        for response, status, code in cases:
            assert response.status_code == status, response.text
            assert response.json()["error"]["code"] == code
        assert (await http.get("/recognitions")).json()["total"] == 0
    stored = live_server.settings.data_dir / "recognitions"
    assert not stored.exists() or not any(stored.iterdir())


def _gif() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="GIF")
    return buffer.getvalue()


def _huge_png() -> bytes:
    """A decompression bomb: 10000x10000 declared, a few KB on the wire."""
    buffer = io.BytesIO()
    Image.new("1", (10000, 10000)).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_detections_equal_ultralytics_predict_on_the_same_photos(live_server: LiveServer, trained_weights) -> None:
    """The server adds nothing and loses nothing: same boxes, classes and confidences as model.predict."""
    from ultralytics import YOLO

    val = live_server.settings.data_dir / "datasets/1/images/val"
    paths = sorted(val.glob("*.jpg"))[:4]
    async with live_server.client() as http:
        model = await upload_model(http, trained_weights)
        response = await recognize(http, [p.read_bytes() for p in paths], model=str(model["id"]), conf="0.05")
    served = response.json()["images"]

    def predict() -> list:
        images = [Image.open(p).convert("RGB") for p in paths]
        return YOLO(str(trained_weights)).predict(images, conf=0.05, iou=0.7, verbose=False)

    expected = await asyncio.to_thread(predict)
    assert sum(len(r.boxes) for r in expected) > 0  # a model that finds something, or the test proves nothing
    for image, result in zip(served, expected, strict=True):
        want = sorted(zip(result.boxes.cls.tolist(), result.boxes.conf.tolist(), result.boxes.xyxy.tolist(),
                          strict=True), key=lambda d: -d[1])
        got = sorted(image["detections"], key=lambda d: -d["confidence"])
        assert len(got) == len(want)
        for detection, (cls, conf, box) in zip(got, want, strict=True):
            assert detection["class_id"] == int(cls) and abs(detection["confidence"] - conf) < 1e-3
            assert all(abs(a - b) < 0.2 for a, b in zip(detection["box"], box, strict=True))
        assert image["found"] == len(want)


async def test_a_big_photo_gets_the_boxes_of_the_small_one_scaled(live_server: LiveServer, trained_weights) -> None:
    """A phone-size JPEG is decoded at reduced scale for the model; boxes come back in its own pixels."""
    val = sorted((live_server.settings.data_dir / "datasets/1/images/val").glob("*.jpg"))
    async with live_server.client() as http:
        model = str((await upload_model(http, trained_weights))["id"])
        scan = (await recognize(http, [p.read_bytes() for p in val], model=model, conf="0.05")).json()["images"]
        best = max(scan, key=lambda image: max((d["confidence"] for d in image["detections"]), default=0))
        assert best["detections"], "the test model finds nothing on the val photos"
        buffer = io.BytesIO()
        Image.open(val[best["index"]]).resize((1024, 1024), Image.Resampling.LANCZOS).save(buffer, "JPEG", quality=95)
        big = (await recognize(http, [buffer.getvalue()], model=model, conf="0.05")).json()["images"][0]
    assert (big["width"], big["height"]) == (1024, 1024)
    top_small, top_big = (max(r["detections"], key=lambda d: d["confidence"]) for r in (best, big))
    assert top_small["name"] == top_big["name"]
    assert _iou([v * 8 for v in top_small["box"]], top_big["box"]) > 0.8
    assert top_big["box_normalized"] == [round(v / 1024, 5) for v in top_big["box"]]


def _iou(a: list[float], b: list[float]) -> float:
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


async def test_retention_removes_old_photos_but_keeps_results(settings, trained_weights, tmp_path: Path) -> None:
    from asgi_lifespan import LifespanManager

    from api.main import create_app

    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1",
                                     headers={"X-API-Key": ADMIN_KEY}) as http:
            model = await upload_model(http, trained_weights)
            old = (await recognize(http, [jpeg()], model=str(model["id"]), expected_count="1")).json()
            assert (await http.get(f"/recognitions/{old['id']}/images/0")).status_code == 200
            recognizer = app.state.services.recognizer
            assert await recognizer.prune_images(retention_s=3600) == 0  # not old enough
            assert await recognizer.prune_images(retention_s=0) == 1
            assert await recognizer.prune_images(retention_s=0) == 0  # done once
            kept = (await http.get(f"/recognitions/{old['id']}")).json()
            assert kept["verdict"] == old["verdict"] and kept["images_removed_at"] is not None
            gone = await http.get(f"/recognitions/{old['id']}/images/0", params={"original": "true"})
            assert gone.status_code == 404 and gone.json()["error"]["code"] == "image_not_found"
            assert (await http.get(f"/recognitions/{old['id']}/images/0")).status_code == 404
            newer = (await recognize(http, [jpeg()], model=str(model["id"]))).json()
    assert not (settings.data_dir / "recognitions" / str(old["id"])).exists()

    # A restarted server applies the retention at once (here: anything older than a millisecond).
    app = create_app(settings.model_copy(update={"recognition_image_retention_days": 1e-8}))
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1",
                                     headers={"X-API-Key": ADMIN_KEY}) as http:
            for _ in range(100):
                if (await http.get(f"/recognitions/{newer['id']}")).json()["images_removed_at"]:
                    break
                await asyncio.sleep(0.05)
            assert (await http.get(f"/recognitions/{newer['id']}")).json()["images_removed_at"] is not None
    assert not (settings.data_dir / "recognitions" / str(newer["id"])).exists()
