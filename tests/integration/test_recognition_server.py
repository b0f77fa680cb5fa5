"""Recognition through a real server with a real (tiny) trained model: shape of the answer, verdicts,
history, annotated images, hostile images, and nothing half-stored."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
from PIL import Image

from tests.helpers import LiveServer


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
        assert set(result["timings_ms"]) == {"decode", "queue_wait", "inference", "postprocess", "annotate", "total"}

        annotated = await http.get(result["images"][1]["image_url"].removeprefix("/api/v1"))
        assert annotated.status_code == 200 and annotated.headers["content-type"] == "image/jpeg"
        original = await http.get(result["images"][1]["original_url"].removeprefix("/api/v1"))
        assert original.content == photos[1]
        assert (await http.get(f"/recognitions/{result['id']}/images/3")).status_code == 404

        listed = (await http.get("/recognitions", params={"user": "tg:7", "model": model["id"]})).json()
        assert [item["id"] for item in listed["items"]] == [result["id"]]
        assert (await http.get("/recognitions", params={"user": "tg:8"})).json()["total"] == 0
        assert (await http.get("/recognitions", params={"verdict": result["verdict"]})).json()["total"] == 1
        metrics = (await http.get("/metrics")).text
        assert 'recognition_stage_seconds_count{stage="inference"} 1.0' in metrics

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
