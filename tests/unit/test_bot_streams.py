"""Stream alerts and texts of the bot: crossings summed up and throttled, trouble told once, counts in captions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from telegram_bot.callbacks import StreamCb
from telegram_bot.keyboards import stream_actions, stream_is_on
from telegram_bot.schemas import ServerEvent, StreamRead
from telegram_bot.storage import BotStorage
from telegram_bot.stream_alerts import CrossingDigest, StreamAlerts, TroubleWatch
from telegram_bot.stream_formatting import (
    CAPTION_LIMIT,
    crossings_text,
    stream_alert_text,
    stream_caption,
    streams_empty_text,
    streams_text,
)


def stream(**overrides: Any) -> StreamRead:
    base: dict[str, Any] = {
        "id": 3, "name": "door <1>", "source": "rtsp://u:***@cam/s", "model_id": 1, "enabled": True, "status": "running",
        "created_at": 1.0, "conf": 0.5,  # fields the bot does not read are ignored
        "telemetry": {"fps_proc": 12.345, "frames_in": 10, "zone_counts": {"top": {"square": 1}},
                      "line_counts": {"middle": {"square": {"in": 3, "out": 0}, "circle": {"in": 0, "out": 2}}}},
    }
    base.update(overrides)
    return StreamRead.model_validate(base)


def cross(digest: CrossingDigest, stream_id: int, direction: str = "in", class_name: str = "square") -> None:
    digest.add(stream_id, line="middle", class_name=class_name, direction=direction)


def test_first_crossing_is_due_at_once_then_one_summary_per_interval_per_stream() -> None:
    digest = CrossingDigest(interval_s=10.0)
    cross(digest, 1)
    assert digest.due(100.0) == {1: {"middle": {"square": {"in": 1}}}}
    for _ in range(500):  # a busy line
        cross(digest, 1)
        cross(digest, 1, "out", "circle")
    cross(digest, 2)
    assert digest.due(101.0) == {2: {"middle": {"square": {"in": 1}}}}  # stream 2 has its own clock
    assert digest.due(109.9) == {}
    assert digest.due(110.0) == {1: {"middle": {"square": {"in": 500}, "circle": {"out": 500}}}}
    assert digest.due(200.0) == {}  # nothing new: nothing to say
    cross(digest, 1, "out")
    assert digest.due(200.5) == {1: {"middle": {"square": {"out": 1}}}}


def test_trouble_is_told_once_until_the_stream_runs_again() -> None:
    watch = TroubleWatch()
    statuses = ["starting", "running", "failed", "starting", "failed", "reconnecting", "starting", "running", "running",
                "reconnecting", "stopped", "running"]
    assert [watch.alert(7, s) for s in statuses] == [
        None, None, "failed", None, None, None, None, "recovered", None, "reconnecting", None, None]
    assert watch.alert(8, "failed") == "failed"  # per stream


def test_alerts_record_status_and_crossings_but_never_tracks() -> None:
    alerts = StreamAlerts(bot=None, api=None, storage=None)  # type: ignore[arg-type]  # on_event only records
    events = [
        {"type": "stream.status", "data": {"stream_id": 4, "status": "failed", "reason": "source gone"}},
        {"type": "stream.tracks", "data": {"stream_id": 4, "frame": 1, "tracks": []}},
        {"type": "stream.crossing", "data": {"stream_id": 4, "line": "middle", "track_id": 2, "class_name": "circle",
                                             "direction": "out", "slot": 1, "frame": 9, "ts": 1.0}},
    ]
    for event in events:
        alerts.on_event(ServerEvent.model_validate(event))
    assert alerts._alerts == [(4, "failed", "source gone")]
    assert alerts._digest.due(0.0) == {4: {"middle": {"circle": {"out": 1}}}}


def test_list_caption_and_alerts_show_status_fps_and_counts_escaped() -> None:
    listing = streams_text([stream(), stream(id=4, name="yard", status="failed",
                                             telemetry={"last_error": "rtsp <timeout>"})], "en")
    assert "🟢 #3 <b>door &lt;1&gt;</b> — running · 12.3 fps\n    Lines: middle: in 3 / out 2" in listing
    assert "🔴 #4 <b>yard</b> — failed · 0.0 fps\n    ⚠️ rtsp &lt;timeout&gt;" in listing
    caption = stream_caption(stream(), "ru")
    assert caption.endswith("Зоны: top: square 1\nЛинии: middle: square вход 3 / выход 0, circle вход 0 / выход 2")
    many = {f"line{i}": {"square": {"in": i, "out": 0}} for i in range(200)}
    assert len(stream_caption(stream(telemetry={"line_counts": many}), "en")) <= CAPTION_LIMIT
    assert "unknown-state" in streams_text([stream(status="unknown-state")], "en")  # a new server state: no crash
    assert crossings_text("door", {"middle": {"square": {"in": 2}}}, "en") == "🚶 “door” crossings: middle: square in 2 / out 0"
    alert = stream_alert_text("failed", "a<b", "boom <x>", "en")
    assert alert == "❌ Stream “a&lt;b” failed; the server restarts it.\n<i>boom &lt;x&gt;</i>"
    empty = streams_empty_text("http://10.0.0.5:8000/api/v1/", "en")
    assert "POST /streams" in empty and "http://10.0.0.5:8000/api/v1/streams</code>" in empty


def test_stream_buttons_offer_stop_or_start_and_fit_telegrams_64_bytes() -> None:
    assert stream_is_on(stream()) and stream_is_on(stream(status="failed", enabled=True))
    assert not stream_is_on(stream(status="stopped", enabled=False))
    markup = stream_actions([stream(), stream(id=2**31 - 1, name="x" * 100, status="stopped", enabled=False)], "en",
                            alerts=True)
    texts = [[button.text for button in row] for row in markup.inline_keyboard]
    assert texts == [["⏹ Stop door <1>", "📸 door <1>"], [f"▶️ Start {'x' * 24}", f"📸 {'x' * 24}"],
                     ["🔄 Refresh", "🔕 Mute alerts"]]
    packed = [button.callback_data or "" for row in markup.inline_keyboard for button in row]
    assert StreamCb.unpack(packed[2]) == StreamCb(action="start", id=2**31 - 1)
    assert all(len(data.encode()) <= 64 for data in packed)


async def test_a_chat_that_opens_the_list_hears_alerts_until_it_mutes_them_across_restarts(tmp_path: Path) -> None:
    store = await BotStorage.open(tmp_path / "bot.db")
    try:
        assert await store.stream_watchers() == {}
        assert await store.watch_streams(chat_id=1, lang="en") is True
        assert await store.watch_streams(chat_id=2, lang="ru") is True
        await store.set_stream_alerts(chat_id=2, lang="ru", on=False)
        assert await store.watch_streams(chat_id=2, lang="en") is False  # opening the list again does not unmute
    finally:
        await store.close()
    store = await BotStorage.open(tmp_path / "bot.db")
    try:
        assert await store.stream_watchers() == {1: "en"}
        await store.set_stream_alerts(chat_id=2, lang="en", on=True)
        assert await store.stream_watchers() == {1: "en", 2: "en"}
    finally:
        await store.close()
