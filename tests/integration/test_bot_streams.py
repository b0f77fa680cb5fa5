"""Streams through the real bot: the list, Stop and Start edit it in place, Snapshot sends the annotated frame with
the counts, crossings are summed up at most once per interval, and the server's refusal (a viewer key) is shown."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.bot_harness import ALLOWED_USER, bot_settings, running_bot
from tests.fakes.telegram import Call, FakeTelegram
from tests.helpers import LiveServer
from tests.videos import write_video

pytestmark = pytest.mark.training  # the tracking_weights fixture trains where TEST_TRACKING_WEIGHTS is not set

CROSSING_INTERVAL_S = 1.0


async def wait_stream(http: httpx.AsyncClient, stream_id: int, predicate: Any, what: str,
                      timeout: float = 60) -> dict[str, Any]:
    deadline, stream = time.monotonic() + timeout, {}
    while time.monotonic() < deadline:
        stream = (await http.get(f"/streams/{stream_id}")).json()
        if predicate(stream):
            return stream
        await asyncio.sleep(0.3)
    raise AssertionError(f"stream never {what}: {stream.get('status')} {stream.get('telemetry')}")


async def create_stream(http: httpx.AsyncClient, tracking_weights: Path, video: Path) -> dict[str, Any]:
    model = await http.post("/models", files={"file": ("tracker.pt", tracking_weights.read_bytes())})
    assert model.status_code == 201, model.text
    uploaded = await http.post("/videos", files={"file": ("v.mp4", video.read_bytes())})
    assert uploaded.status_code == 201, uploaded.text
    created = await http.post("/streams", json={
        "name": "door", "source": f"video:{uploaded.json()['id']}", "model": model.json()["id"], "conf": 0.3,
        "iou": 0.45, "lines": [{"name": "middle", "start": [0.5, 0.0], "end": [0.5, 1.0]}],
        "zones": [{"name": "top", "points": [[0, 0], [1, 0], [1, 0.5], [0, 0.5]]}]})
    assert created.status_code == 201, created.text
    return created.json()


async def press_and_wait_edit(fake: FakeTelegram, user: dict[str, Any], message: Call, button: str) -> Call:
    mark = len(fake.calls)
    await fake.press(user, message, message.button(button))
    return await fake.wait_for(lambda c: c.method == "editMessageText", since=mark, timeout=30)


async def snapshot(fake: FakeTelegram, user: dict[str, Any], listing: Call) -> Call:
    """Press Snapshot until a photo comes (a restarted stream needs a moment for its first frame)."""
    deadline = time.monotonic() + 30
    while True:
        mark = len(fake.calls)
        await fake.press(user, listing, listing.button("📸 door"))
        # A crossing summary may arrive in between: it is not the answer to the button.
        answer = await fake.wait_for(lambda c: c.method == "sendPhoto" or (c.method == "sendMessage"
                                     and "crossings:" not in c.text), since=mark, timeout=30)
        if answer.method == "sendPhoto" or "has not processed a frame" not in answer.text or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(0.5)


async def test_streams_list_stop_start_snapshot_and_crossing_summaries(
    live_server: LiveServer, fake_telegram: FakeTelegram, tmp_path: Path, tracking_weights: Path
) -> None:
    fake, user = fake_telegram, FakeTelegram.user(ALLOWED_USER, "en")
    video = write_video(tmp_path / "v.mp4", frames=30, fps=15)
    async with live_server.client() as http:
        stream = await create_stream(http, tracking_weights, video)
        await wait_stream(http, stream["id"], lambda s: s["status"] == "running", "running")
        settings = bot_settings(live_server.url, fake.base_url, tmp_path / "bot", crossing_interval_s=CROSSING_INTERVAL_S)
        async with running_bot(settings, fake):
            await fake.send_text(user, "📡 Streams")
            listing = await fake.wait_for(lambda c: c.method == "sendMessage" and "<b>Streams</b>" in c.text)
            assert f"🟢 #{stream['id']} <b>door</b> — running ·" in listing.text and " fps" in listing.text
            assert [b["text"] for b in listing.buttons()] == ["⏹ Stop door", "📸 door", "🔄 Refresh", "🔕 Mute alerts"]

            # Opening the list made this chat hear stream alerts: the square and the circle cross "middle" every
            # loop of the video, told in summaries at most once per interval.
            first = await fake.wait_for(lambda c: "crossings: middle:" in c.text, timeout=60)
            await fake.wait_for(lambda c: "crossings: middle:" in c.text, since=fake.calls.index(first) + 1, timeout=30)
            assert first.chat_id == ALLOWED_USER and "“door” crossings: middle: " in first.text

            stopped = await press_and_wait_edit(fake, user, listing, "Stop door")
            api_view = (await http.get(f"/streams/{stream['id']}")).json()
            assert api_view["status"] == "stopped" and api_view["enabled"] is False
            assert int(stopped.params["message_id"]) == int(listing.params["_message_id"])  # the same message, edited
            assert "⚪" in stopped.text and "<b>door</b> — stopped" in stopped.text
            assert [b["text"] for b in stopped.buttons()][0] == "▶️ Start door"
            summaries = [c for c in fake.sent("sendMessage", chat_id=ALLOWED_USER) if "crossings:" in c.text]
            gaps = [later.at - earlier.at for earlier, later in zip(summaries, summaries[1:], strict=False)]
            assert gaps and min(gaps) > CROSSING_INTERVAL_S * 0.8, gaps  # a busy line never floods the chat

            not_running = await snapshot(fake, user, stopped)
            assert not_running.method == "sendMessage" and "“door” is not running" in not_running.text

            started = await press_and_wait_edit(fake, user, stopped, "Start door")
            assert "⏹ Stop door" in [b["text"] for b in started.buttons()]
            running = await wait_stream(http, stream["id"], lambda s: s["status"] == "running"
                                        and s["telemetry"]["line_counts"].get("middle"), "running with crossings")
            refreshed = await press_and_wait_edit(fake, user, started, "Refresh")
            assert "<b>door</b> — running" in refreshed.text and "Lines: middle: in " in refreshed.text

            photo = await snapshot(fake, user, refreshed)
            assert photo.method == "sendPhoto", photo.text
            assert next(iter(photo.files.values())).startswith(b"\xff\xd8")  # a JPEG
            assert photo.text.startswith(f"🟢 #{stream['id']} <b>door</b> — running")
            assert "Zones: top: " in photo.text and "Lines: middle: " in photo.text
            for class_name in running["telemetry"]["line_counts"]["middle"]:
                assert f"{class_name} in " in photo.text
            assert not [c for c in fake.calls if "failed" in c.text or "running again" in c.text]

        viewer = (await http.post("/keys", json={"name": "bot", "role": "viewer"})).json()["key"]
        async with running_bot(bot_settings(live_server.url, fake.base_url, tmp_path / "viewer", api_key=viewer), fake):
            mark = len(fake.calls)
            await fake.send_text(user, "📡 Streams")
            listing = await fake.wait_for(lambda c: c.method == "sendMessage" and "<b>Streams</b>" in c.text, since=mark)
            mark = len(fake.calls)
            await fake.press(user, listing, listing.button("Stop door"))
            refusal = await fake.wait_for(lambda c: c.method == "sendMessage" and "server said" in c.text, since=mark)
            assert refusal.text == "❌ The server said: This needs the operator role; the key has viewer."
            assert (await http.get(f"/streams/{stream['id']}")).json()["status"] == "running"


async def test_no_streams_explains_how_to_add_one_and_a_stale_button_gets_the_servers_answer(
    live_server: LiveServer, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    fake, user = fake_telegram, FakeTelegram.user(ALLOWED_USER, "ru")
    async with live_server.client() as http:
        viewer = (await http.post("/keys", json={"name": "bot", "role": "viewer"})).json()["key"]
    async with running_bot(bot_settings(live_server.url, fake.base_url, tmp_path / "bot", api_key=viewer), fake):
        await fake.send_text(user, "📡 Потоки")
        empty = await fake.wait_for(lambda c: c.method == "sendMessage")
        assert "Потоков пока нет" in empty.text and f"{live_server.url}/api/v1/streams</code>" in empty.text
        # A button of a list shown earlier (with a key that may not stop streams): the server's answer is shown.
        mark = len(fake.calls)
        await fake.press(user, empty, "v:stop:1")
        refusal = await fake.wait_for(lambda c: c.method == "sendMessage", since=mark)
        assert refusal.text.startswith("❌ Сервер ответил:") and "operator" in refusal.text
