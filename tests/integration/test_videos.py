"""Videos as a user drives them over HTTP: upload (files OpenCV wrote), list, read, delete with its file; and every
refusal: a kind we do not take, bytes that are not that kind, a video cut short, too large, the wrong role or owner,
an unknown id, a video a stream plays. A refused upload leaves nothing behind, a restart sweeps half-writes, and a
backup copies the videos."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from api.core.backup import backup
from api.core.settings import Settings
from api.main import create_app
from tests.helpers import ADMIN_KEY, assert_error, make_settings
from tests.videos import write_video


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """MAX_UPLOAD_MB=1: the test videos are a few KiB, and the too-large upload then costs only 1.5 MiB."""
    return make_settings(tmp_path / "data", max_upload_mb=1)


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app in process with an admin client: a test can reach the app's own database (there is no streams API
    yet to make a stream with)."""
    app = create_app(settings)
    # `app`, not the manager's wrapper: that one hands every request the same scope["state"] dict, where the first
    # request's key is kept (api/dependencies.py reads it from there), so every later key would act as the admin.
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test/api/v1",
                                     headers={"X-API-Key": ADMIN_KEY}, timeout=60) as http:
            yield app, http


@pytest.fixture
async def app_http(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with serving(settings) as running:
        yield running


async def new_key(http: httpx.AsyncClient, role: str) -> dict[str, str]:
    response = await http.post("/keys", json={"name": f"{role}-{time.monotonic_ns()}", "role": role})
    assert response.status_code == 201, response.text
    return {"X-API-Key": response.json()["key"]}


async def upload(http: httpx.AsyncClient, filename: str, data: bytes, key: dict[str, str] | None = None,
                 **form: str) -> httpx.Response:
    return await http.post("/videos", files={"file": (filename, data, "application/octet-stream")}, data=form,
                           headers=key or {})


def stored_files(settings: Settings) -> list[str]:
    root = settings.data_dir / "videos"
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.is_dir() else []


async def test_an_uploaded_video_is_described_listed_and_deleted_with_its_file(app_http, settings, tmp_path) -> None:
    app, http = app_http
    operator, other, viewer = await new_key(http, "operator"), await new_key(http, "operator"), await new_key(http, "viewer")
    mp4 = write_video(tmp_path / "hall.mp4", frames=40, fps=20.0, size=96).read_bytes()
    response = await upload(http, "hall.mp4", mp4, operator, name="hall-cam")
    assert response.status_code == 201, response.text
    video = response.json()
    me = (await http.get("/auth/me", headers=operator)).json()["key"]["id"]
    assert (video["name"], video["filename"], video["container"], video["created_by"]) == ("hall-cam", "hall.mp4", "mp4", me)
    assert (video["width"], video["height"], video["fps"], video["frame_count"]) == (96, 96, 20.0, 40)
    assert video["duration_s"] == pytest.approx(2.0) and video["codec"] and video["source"] == f"video:{video['id']}"
    assert (video["size_bytes"], video["sha256"]) == (len(mp4), hashlib.sha256(mp4).hexdigest())
    path = settings.data_dir / "videos" / f"{video['id']}.mp4"
    assert path.read_bytes() == mp4 and app.state.services.videos.path_of(video["id"]) == path

    avi = write_video(tmp_path / "yard.avi", frames=12, fps=10.0, size=64, codec="MJPG").read_bytes()
    second = (await upload(http, "yard.avi", avi, other)).json()
    assert (second["name"], second["container"], second["frame_count"], second["width"]) == ("yard", "avi", 12, 64)

    listed = (await http.get("/videos", headers=viewer)).json()
    assert listed == {"items": [second, video], "total": 2}  # newest first
    assert (await http.get("/videos", params={"limit": 1, "offset": 1}, headers=viewer)).json() == {
        "items": [video], "total": 2}
    assert (await http.get(f"/videos/{video['id']}", headers=viewer)).json() == video

    assert_error(await http.delete(f"/videos/{video['id']}", headers=viewer), 403, "forbidden")
    assert_error(await http.delete(f"/videos/{video['id']}", headers=other), 403, "not_owner")
    assert (await http.delete(f"/videos/{video['id']}", headers=operator)).status_code == 204
    assert not path.exists()
    assert_error(await http.get(f"/videos/{video['id']}"), 404, "video_not_found")
    assert (await http.delete(f"/videos/{second['id']}")).status_code == 204  # an admin deletes any
    assert (await http.get("/videos")).json() == {"items": [], "total": 0}
    assert stored_files(settings) == []


async def test_files_that_are_not_whole_videos_are_refused_and_leave_nothing(app_http, settings, tmp_path) -> None:
    _, http = app_http
    mp4 = write_video(tmp_path / "v.mp4", frames=30, size=64).read_bytes()
    avi = write_video(tmp_path / "v.avi", frames=30, size=64, codec="MJPG").read_bytes()

    details = assert_error(await upload(http, "notes.txt", b"hello"), 415, "unsupported_media_type")
    assert details["allowed"] == ["mp4", "avi", "mkv", "webm"]
    assert_error(await upload(http, "noise.mp4", bytes(range(256)) * 40), 415, "unsupported_media_type")
    error = (await upload(http, "renamed.mp4", avi)).json()["error"]  # an AVI inside: named by its content
    assert error["code"] == "unsupported_media_type" and "AVI" in error["message"]
    assert_error(await upload(http, "empty.mp4", b""), 422, "empty_file")

    fake_header = b"\x00\x00\x00\x18ftypisom" + bytes(range(256)) * 40  # passes the magic check, then fails to open
    details = assert_error(await upload(http, "fake.mp4", fake_header), 422, "invalid_video")
    assert "cannot be opened" in details["reason"]
    details = assert_error(await upload(http, "half.mp4", mp4[: len(mp4) // 2]), 422, "invalid_video")
    assert "cannot be opened" in details["reason"]  # OpenCV writes the index at the end: half a file has none
    error = (await upload(http, "half.avi", avi[: len(avi) // 2])).json()["error"]  # opens; its end is missing
    assert error["code"] == "invalid_video" and "last frame cannot be decoded" in error["message"]

    assert (await http.get("/videos")).json() == {"items": [], "total": 0}
    assert stored_files(settings) == []


async def test_uploads_are_bounded_by_size_and_role_and_ids_must_exist(app_http, tmp_path) -> None:
    _, http = app_http
    viewer = await new_key(http, "viewer")
    mp4 = write_video(tmp_path / "v.mp4", frames=10, size=64).read_bytes()
    assert_error(await upload(http, "big.mp4", mp4 + bytes(3 * 2**19)), 413, "payload_too_large")
    details = assert_error(await upload(http, "v.mp4", mp4, viewer), 403, "forbidden")
    assert details["required_role"] == "operator"
    assert_error(await http.post("/videos", data={"name": "no file"}), 422, "validation_error")
    assert_error(await upload(http, "v.mp4", mp4, name="x" * 101), 422, "validation_error")
    assert_error(await http.get("/videos/999"), 404, "video_not_found")
    assert_error(await http.delete("/videos/999"), 404, "video_not_found")
    assert_error(await http.get("/videos/0"), 422, "validation_error")
    assert (await http.get("/videos", headers=viewer)).json() == {"items": [], "total": 0}


async def test_a_video_a_stream_plays_cannot_be_deleted(app_http, settings, tmp_path) -> None:
    app, http = app_http
    video = (await upload(http, "v.mp4", write_video(tmp_path / "v.mp4", frames=10, size=64).read_bytes())).json()
    db = app.state.services.db  # foreign keys are on: the stream row needs a model row to point at
    model_id = await db.execute(
        "INSERT INTO models (name, task, architecture, classes, metrics, source, path, size_bytes, sha256, created_at,"
        " validated_at) VALUES ('m', 'detect', 'yolo11n', '[]', '{}', 'upload', '1.pt', 1, 'x', ?, ?)",
        (time.time(), time.time()))
    stream_id = await db.execute("INSERT INTO streams (name, source, model_id, settings, created_at)"
                                 " VALUES ('hall', ?, ?, '{}', ?)", (video["source"], model_id, time.time()))

    details = assert_error(await http.delete(f"/videos/{video['id']}"), 409, "video_in_use")
    assert details["streams"] == [stream_id]
    assert (await http.get(f"/videos/{video['id']}")).json() == video
    assert (settings.data_dir / "videos" / f"{video['id']}.mp4").is_file()

    await db.execute("DELETE FROM streams WHERE id = ?", (stream_id,))
    assert (await http.delete(f"/videos/{video['id']}")).status_code == 204


async def test_a_restart_sweeps_half_written_videos_and_a_backup_keeps_the_rest(settings, tmp_path) -> None:
    mp4 = write_video(tmp_path / "v.mp4", frames=10, size=64).read_bytes()
    async with serving(settings) as (_, http):
        video = (await upload(http, "v.mp4", mp4)).json()
    root = settings.data_dir / "videos"
    # What a kill -9 can leave: an upload cut off mid-stream, and a file placed whose row never committed.
    (root / ".uploads").mkdir(exist_ok=True)
    (root / ".uploads" / "cut.mp4").write_bytes(mp4[:100])
    (root / f"{video['id'] + 1}.mp4").write_bytes(mp4)

    async with serving(settings) as (_, http):
        assert (await http.get("/videos")).json() == {"items": [video], "total": 1}
    assert stored_files(settings) == [f"{video['id']}.mp4"]
    manifest = backup(database=settings.database_path, data_dir=settings.data_dir, target=tmp_path / "backup")
    assert f"videos/{video['id']}.mp4" in {entry.path for entry in manifest.files}
