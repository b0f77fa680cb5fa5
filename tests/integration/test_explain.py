"""Explanations through the real app: an EigenCAM heatmap over the photo that is hotter on the objects, kept as a
file, focused on one detection on request, for detection and classification models; clear errors when the photo
or the model is gone."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from PIL import Image

from api.core.settings import Settings
from api.main import create_app
from api.recognition import explain
from tests.helpers import ADMIN_KEY, assert_error


@pytest.fixture
async def app_http(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60) as manager:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=manager.app), base_url="http://test/api/v1",
                                     headers={"X-API-Key": ADMIN_KEY}) as http:
            yield app, http


async def upload_model(http: httpx.AsyncClient, data: bytes, name: str = "tray.pt") -> dict[str, Any]:
    response = await http.post("/models", files={"file": (name, data)})
    assert response.status_code == 201, response.text
    return response.json()


async def recognize(http: httpx.AsyncClient, photos: list[bytes], model: int, **form: str) -> dict[str, Any]:
    files = [("images", (f"p{i}.jpg", data, "image/jpeg")) for i, data in enumerate(photos)]
    response = await http.post("/recognitions", files=files, data={"model": str(model), **form}, timeout=60)
    assert response.status_code == 201, response.text
    return response.json()


def pixels(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float32)


def recovered_heat(explained: np.ndarray, photo: np.ndarray) -> np.ndarray:
    """The 0..1 heat each pixel of an overlay shows: its colour-map entry nearest to (overlay - photo share)."""
    heat = (explained - (1 - explain.ALPHA) * photo) / explain.ALPHA
    table = explain._colour_table()
    distances = ((heat.reshape(-1, 1, 3) - table[None]) ** 2).sum(axis=2)
    return (distances.argmin(axis=1) / 255).reshape(heat.shape[:2])


def object_mask(label_file: Path, size: tuple[int, int]) -> np.ndarray:
    """Where the drawn shapes are: the dataset's YOLO labels (class cx cy w h, 0..1) as an (H, W) mask."""
    width, height = size
    mask = np.zeros((height, width), bool)
    for line in label_file.read_text().splitlines():
        _, cx, cy, w, h = map(float, line.split())
        mask[int((cy - h / 2) * height):int((cy + h / 2) * height), int((cx - w / 2) * width):int((cx + w / 2) * width)] = 1
    return mask


async def test_explanation_is_hot_on_the_objects_kept_and_focusable(app_http, settings, trained_weights) -> None:
    _, http = app_http
    dataset = settings.data_dir / "datasets/1"
    val = sorted((dataset / "images/val").glob("*.jpg"))[:4]
    model = await upload_model(http, trained_weights.read_bytes())
    recognition = await recognize(http, [p.read_bytes() for p in val], model["id"], conf="0.01")
    urls = [f"/recognitions/{recognition['id']}/images/{n}/explain" for n in range(len(val))]
    hotter = []
    for url, path in zip(urls, val, strict=True):
        response = await http.get(url, timeout=60)
        assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
        photo, explained = pixels(path.read_bytes()), pixels(response.content)
        assert explained.shape == photo.shape
        heat, objects = recovered_heat(explained, photo), object_mask(dataset / "labels/val" / f"{path.stem}.txt",
                                                                     (photo.shape[1], photo.shape[0]))
        hotter.append(heat[objects].mean() - heat[~objects].mean())
    assert np.mean(hotter) > 0.05 and sum(h > 0 for h in hotter) >= 3, hotter  # the heat is on the shapes

    image = max(recognition["images"], key=lambda i: len(i["detections"]))
    assert image["detections"], "the test model finds nothing on the val photos"
    url, folder = urls[image["index"]], settings.data_dir / "recognitions" / str(recognition["id"])
    kept = folder / f"{image['index']}.explain.jpg"
    first = await http.get(url)
    assert kept.read_bytes() == first.content and (await http.get(url)).content == first.content  # the kept file
    kept.unlink()
    again = await http.get(url, timeout=60)
    assert np.abs(pixels(again.content) - pixels(first.content)).mean() < 1.0  # recomputed: the same picture

    focused = await http.get(url, params={"detection": 0}, timeout=60)
    assert focused.status_code == 200 and focused.content != first.content
    assert (folder / f"{image['index']}.explain.0.jpg").read_bytes() == focused.content
    photo = pixels(val[image["index"]].read_bytes())
    x0, y0, x1, y1 = image["detections"][0]["box"]
    away = np.ones(photo.shape[:2], bool)
    away[max(0, int(y0) - 30):int(y1) + 6, max(0, int(x0) - 6):] = False  # the box, and its label above it
    assert abs(pixels(focused.content)[away].mean() - explain.DIM * photo[away].mean()) < 6  # the rest is dimmed

    details = assert_error(await http.get(url, params={"detection": len(image["detections"])}), 404,
                           "detection_not_found")
    assert details == {"detections": len(image["detections"])}
    assert_error(await http.get(url, params={"detection": -1}), 422, "validation_error")
    assert_error(await http.get(f"/recognitions/{recognition['id']}/images/9/explain"), 404, "image_not_found")
    assert_error(await http.get("/recognitions/999/images/0/explain"), 404, "recognition_not_found")
    assert f'recognition_stage_seconds_count{{stage="explain"}} {len(val) + 2}.0' in (await http.get("/metrics")).text


def classify_checkpoint(work: Path) -> bytes:
    """An untrained yolo11n-cls built from its YAML, saved as a checkpoint (offline: the app set the environment)."""
    from ultralytics import YOLO

    path = work / "cls.pt"
    YOLO("yolo11n-cls.yaml").save(str(path))
    return path.read_bytes()


async def test_a_classification_model_explains_the_whole_image(app_http, settings, tmp_path: Path) -> None:
    _, http = app_http
    model = await upload_model(http, await asyncio.to_thread(classify_checkpoint, tmp_path), "cls.pt")
    assert model["task"] == "classify"
    photo = sorted((settings.data_dir / "datasets/1/images/val").glob("*.jpg"))[0].read_bytes()
    recognition = await recognize(http, [photo], model["id"])
    url = f"/recognitions/{recognition['id']}/images/0/explain"
    response = await http.get(url, timeout=60)
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    explained = pixels(response.content)
    assert explained.shape == pixels(photo).shape and np.abs(explained - pixels(photo)).mean() > 5
    assert_error(await http.get(url, params={"detection": 0}), 422, "validation_error")


async def test_explaining_needs_the_photo_and_the_model(app_http, settings, trained_weights) -> None:
    app, http = app_http
    photo = sorted((settings.data_dir / "datasets/1/images/val").glob("*.jpg"))[0].read_bytes()
    model = await upload_model(http, trained_weights.read_bytes())
    drawn, pruned = [await recognize(http, [photo], model["id"]) for _ in range(2)]
    assert (await http.get(f"/recognitions/{drawn['id']}/images/0/explain", timeout=60)).status_code == 200

    await app.state.services.recognizer.prune_images(retention_s=0)  # both lose their photos ...
    assert_error(await http.get(f"/recognitions/{pruned['id']}/images/0/explain"), 404, "image_removed")
    assert not (settings.data_dir / "recognitions" / str(drawn["id"])).exists()  # ... and their explanations

    kept = await recognize(http, [photo], model["id"])
    other = await recognize(http, [photo], model["id"])
    assert (await http.get(f"/recognitions/{kept['id']}/images/0/explain", timeout=60)).status_code == 200
    assert (await http.delete(f"/models/{model['id']}")).status_code == 204
    assert_error(await http.get(f"/recognitions/{other['id']}/images/0/explain"), 409, "model_deleted")
    # Drawn before the model went: still served.
    assert (await http.get(f"/recognitions/{kept['id']}/images/0/explain")).status_code == 200
