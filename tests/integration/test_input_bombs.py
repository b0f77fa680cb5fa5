"""Issue 14, findings 3 and 9: tiny inputs that used to cost gigabytes or a 500 (a 1x6000 px image, huge PNGs,
mathtext in a session name, control characters in class names, concurrent extractions)."""

from __future__ import annotations

import io
import time
from pathlib import Path

from PIL import Image

from api.registry.datasets.samples import MAX_SIDE, render_sample
from tests.archives import detection_folder, zip_folder
from tests.helpers import LiveServer, assert_error


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_thin_strip_is_drawn_small_and_fast(tmp_path: Path) -> None:
    """The sample view of an already stored 1x6000 image: it used to be upscaled 480x, to 6.4 GB."""
    folder = tmp_path / "ds" / "images" / "train"
    folder.mkdir(parents=True)
    Image.new("RGB", (1, 6000)).save(folder / "strip.png")
    started = time.monotonic()
    jpeg = render_sample(tmp_path / "ds", "detect", ["a"], 0)
    with Image.open(io.BytesIO(jpeg)) as drawn:
        assert max(drawn.size) <= MAX_SIDE
    assert time.monotonic() - started < 5


async def test_datasets_with_strips_and_control_characters(live_server: LiveServer, tmp_path: Path) -> None:
    strip = detection_folder(tmp_path / "strip")
    Image.new("RGB", (1, 6000)).save(strip / "images" / "train" / "strip.png")
    names = detection_folder(tmp_path / "names", yaml_text='names: ["sq\\r\\nuare", "circle", "tri\\u0007angle"]\n')
    async with live_server.client() as http:
        files = {"file": ("strip.zip", zip_folder(strip), "application/zip")}
        details = assert_error(await http.post("/datasets", files=files), 422, "invalid_dataset")
        assert "longer than wide" in str(details)
        created = await http.post("/datasets", files={"file": ("names.zip", zip_folder(names), "application/zip")})
        assert created.status_code == 201, created.text
        assert created.json()["classes"] == ["square", "circle", "triangle"]
        assert (await http.get(f"/datasets/{created.json()['id']}/samples/0")).status_code == 200


async def test_mathtext_in_a_session_name_is_just_text(live_server: LiveServer) -> None:
    async with live_server.client() as http:
        session = (await http.post("/sessions", json={"task": "detect", "model": "yolov8n.yaml", "dataset": 1,
                                                      "epochs": 1, "imgsz": 64, "name": "$\\frac{$"})).json()
        chart = await http.get(f"/sessions/{session['id']}/chart.png")
        assert chart.status_code == 200 and chart.content[:4] == b"\x89PNG"
        await http.post(f"/sessions/{session['id']}/stop")


async def test_recognition_refuses_strips_and_reduces_huge_photos(live_server: LiveServer, trained_weights) -> None:
    async with live_server.client() as http:
        model = (await http.post("/models", files={"file": ("m.pt", trained_weights.read_bytes())})).json()

        async def recognize(*images: bytes):
            files = [("images", (f"p{i}.png", data, "image/png")) for i, data in enumerate(images)]
            return await http.post("/recognitions", files=files, data={"model": str(model["id"])}, timeout=120)

        details = assert_error(await recognize(png(6000, 40)), 422, "invalid_image")
        assert "longer than it is wide" in details["reason"]
        big = await recognize(png(6000, 6000))
        assert big.status_code == 201, big.text
        annotated = await http.get(f"/recognitions/{big.json()['id']}/images/0")
        with Image.open(io.BytesIO(annotated.content)) as drawn:
            assert max(drawn.size) <= 2048
        assert big.json()["images"][0]["width"] == 6000
