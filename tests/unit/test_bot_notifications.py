"""Who hears about which run (all / mine / none), catching up without repeating, the claim that makes a progress
message once per chat, stream alerts under the same setting, and the pure parts of the queue, runs and history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from telegram_bot import action_keyboards as kb
from telegram_bot.cards import evaluation_text, export_too_big_text, moved_priority, queue_text, summary_text
from telegram_bot.keyboards import model_actions
from telegram_bot.run_announcer import RunAnnouncer, audience, to_catch_up
from telegram_bot.schemas import (
    EvaluationRead,
    ModelRead,
    QueueRead,
    RecognitionRead,
    SessionList,
    SessionRead,
    SummaryGroup,
)
from telegram_bot.storage import BotStorage

ALLOWED = (10, 20, 30)


def session(session_id: int, *, status: str = "queued", owner: str | None = None, kind: str = "train",
            priority: int = 0) -> SessionRead:
    return SessionRead.model_validate({
        "id": session_id, "name": f"run{session_id}", "model": "yolov8n.yaml", "status": status, "kind": kind,
        "priority": priority, "on_behalf_of": owner,
        "progress": {"epoch": 0, "epochs": 3, "percent": 0.0}})


def test_all_hears_every_run_mine_only_its_users_none_nothing() -> None:
    prefs = {10: ("all", "en"), 20: ("none", "ru"), 40: ("all", "ru")}  # 40: a group chat set to all
    assert audience(session(1), prefs, ALLOWED) == {10: "en", 40: "ru"}  # curl: no owner
    assert audience(session(2, owner="tg:30"), prefs, ALLOWED) == {10: "en", 40: "ru", 30: "ru"}  # 30: the default
    assert audience(session(3, owner="tg:20"), prefs, ALLOWED) == {10: "en", 40: "ru"}  # 20 chose none
    assert audience(session(4, owner="tg:99"), prefs, ALLOWED) == {10: "en", 40: "ru"}  # 99 is not allowed
    assert audience(session(5, owner="tg:30", kind="evaluate"), prefs, ALLOWED) == {}


def test_catch_up_takes_active_runs_and_on_reconnect_those_created_meanwhile() -> None:
    active = [session(5, status="running"), session(6)]
    recent = [session(7, status="completed"), session(6), session(5, status="running"), session(4, status="failed")]
    assert [s.id for s in to_catch_up(active, recent, None)] == [5, 6]  # first start: no history replayed
    assert [s.id for s in to_catch_up(active, recent, 5)] == [5, 6, 7]  # 7 started and ended while away
    assert [s.id for s in to_catch_up([], recent, 7)] == []


async def test_a_progress_message_is_claimed_once_per_chat_until_the_run_is_resumed(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    store = await BotStorage.open(path)
    assert await store.claim(chat_id=1, session_id=5, lang="en") is True
    assert await store.claim(chat_id=1, session_id=5, lang="en") is False  # the event and the catch-up both saw it
    assert await store.claim(chat_id=2, session_id=5, lang="ru") is True
    await store.subscribe(chat_id=1, session_id=5, message_id=77, lang="en")
    await store.close()
    store = await BotStorage.open(path)  # a restart
    try:
        assert await store.claim(chat_id=1, session_id=5, lang="en") is False
        assert sorted((s.chat_id, s.message_id) for s in await store.active_subscriptions()) == [(1, 77), (2, 0)]
    finally:
        await store.close()


async def test_a_finished_run_is_claimed_again_only_when_resumed(tmp_path: Path) -> None:
    store = await BotStorage.open(tmp_path / "bot.db")
    try:
        assert await store.claim(chat_id=1, session_id=5, lang="en")
        assert await store.mark_finished(chat_id=1, session_id=5)
        assert await store.claim(chat_id=1, session_id=5, lang="en") is False  # a late event of the ended run
        assert await store.claim(chat_id=1, session_id=5, lang="en", resumed=True) is True  # a new message
        assert await store.claim(chat_id=1, session_id=5, lang="en", resumed=True) is False
    finally:
        await store.close()


async def test_notification_modes_persist_and_decide_stream_alerts(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    store = await BotStorage.open(path)
    assert await store.notify_mode(1) == "mine"  # the default
    await store.watch_streams(chat_id=1, lang="en")  # opened Streams
    await store.watch_streams(chat_id=2, lang="ru")
    await store.set_notify(chat_id=2, mode="none", lang="ru")  # none silences stream alerts too
    await store.set_notify(chat_id=3, mode="all", lang="en")  # all hears them without opening Streams
    await store.set_notify(chat_id=4, mode="all", lang="en")
    await store.set_stream_alerts(chat_id=4, lang="en", on=False)  # ... unless muted
    await store.remember_lang(5, "en")
    await store.close()
    store = await BotStorage.open(path)
    try:
        assert await store.stream_watchers() == {1: "en", 3: "en"}
        assert await store.notify_mode(2) == "none"
        assert (await store.notify_prefs())[5] == (None, "en")
        await store.set_state("last_session_id", 12)
        assert await store.state("last_session_id") == 12
    finally:
        await store.close()


class FakeApi:
    def __init__(self, active: list[SessionRead], recent: list[SessionRead]) -> None:
        self.active, self.recent = active, recent

    async def sessions(self, *, limit: int = 10, statuses: tuple[str, ...] = (), **_: Any) -> SessionList:
        items = self.active if statuses else self.recent
        return SessionList(items=items, total=len(items))


async def test_announcer_announces_each_run_where_due_and_remembers_the_newest(tmp_path: Path) -> None:
    store = await BotStorage.open(tmp_path / "bot.db")
    followed: list[tuple[int, int]] = []

    async def follow(chat_id: int, run: SessionRead, lang: str) -> bool:
        followed.append((chat_id, run.id))
        return True

    try:
        await store.set_notify(chat_id=10, mode="all", lang="en")
        api = FakeApi([session(3, status="running")], [session(3, status="running"), session(2, status="completed")])
        announcer = RunAnnouncer(api, store, ALLOWED, follow)  # type: ignore[arg-type]
        await announcer.catch_up()
        assert followed == [(10, 3)] and await store.state("last_session_id") == 3
        await announcer.on_session(session(4, owner="tg:20"))
        assert followed[1:] == [(10, 4), (20, 4)] and await store.state("last_session_id") == 4
        api.recent = [session(6, status="completed"), session(5, status="failed"), *api.recent]
        followed.clear()
        await announcer.catch_up()  # a reconnection: 5 and 6 came and went meanwhile
        assert followed == [(10, 3), (10, 5), (10, 6)]
    finally:
        await store.close()


def test_moving_in_the_queue_sets_the_priority_past_the_neighbour() -> None:
    queued = [session(1, priority=5), session(2, priority=0), session(3, priority=0)]
    assert moved_priority(queued, 2, "up") == 6
    assert moved_priority(queued, 2, "down") == -1
    assert moved_priority(queued, 1, "up") is None and moved_priority(queued, 3, "down") is None
    assert moved_priority(queued, 9, "up") is None
    assert moved_priority([session(1, priority=1000), session(2, priority=1000)], 2, "up") is None  # at the bound


def test_queue_text_and_buttons_follow_the_start_order() -> None:
    queue = QueueRead(running=[session(1, status="running")], queued=[session(3, priority=2), session(2)])
    text = queue_text(queue, "en")
    assert text.index("#3") < text.index("#2") and "priority 2" in text
    buttons = [b.text for row in kb.queue_actions(queue, "en").inline_keyboard for b in row]
    assert buttons == ["✖️ Cancel #1", "⬆️ #3", "⬇️ #3", "✖️ Cancel #3", "⬆️ #2", "⬇️ #2", "✖️ Cancel #2", "🔄 Refresh"]
    confirm = [b.text for b in kb.confirm("cancel", 3, "ru").inline_keyboard[0]]
    assert confirm == ["✅ Да", "✖️ Нет"]


def test_pages_have_newer_and_older_only_where_there_are_more() -> None:
    runs = [session(9), session(8)]
    first = kb.runs_page(runs, offset=0, page=2, total=5, as_of=9, lang="en")
    middle = kb.runs_page(runs, offset=2, page=2, total=5, as_of=9, lang="en")
    assert first is not None and middle is not None
    assert [b.text for b in first.inline_keyboard[-1]] == ["Older ➡️"]
    assert [b.text for b in middle.inline_keyboard[-1]] == ["⬅️ Newer", "Older ➡️"]
    assert kb.runs_page([], offset=0, page=2, total=0, as_of=0, lang="en") is None
    assert model_actions([], "en") is None


def test_evaluation_export_and_summary_texts() -> None:
    evaluation = EvaluationRead.model_validate({
        "id": 4, "session_id": 9, "status": "completed", "model_id": 2, "split": "val",
        "metrics": {"precision": 0.9, "recall": 0.8, "mAP50": 0.85, "mAP50-95": 0.6},
        "per_class": {"circle": {"precision": 1.0, "recall": 0.5, "mAP50": 0.7, "mAP50-95": 0.4}}})
    text = evaluation_text(evaluation, "en", dataset="shapes")
    assert "mAP50 0.850 · mAP50-95 0.600 · precision 0.900 · recall 0.800" in text
    assert "• circle: mAP50 0.700" in text
    queued = evaluation.model_copy(update={"status": "queued", "metrics": None})
    assert "queued" in evaluation_text(queued, "en", dataset="shapes")
    too_big = export_too_big_text(2, 75_000_000, "http://h:8000/api/v1", "en")
    assert "75 MB" in too_big and "http://h:8000/api/v1/models/2/download?format=onnx" in too_big
    assert "<a " not in too_big
    group = SummaryGroup(key="tg:10", count=5, complete=3, incomplete=2)
    assert summary_text(group, "en").endswith(": 5, complete 3, incomplete 2, unchecked 0.")


def test_model_card_status_and_why_buttons() -> None:
    model = ModelRead.model_validate({"id": 3, "name": "tray", "task": "detect", "architecture": "yolov8n",
                                      "classes": ["square"], "size_bytes": 6_000_000, "session_id": 7})
    texts = [b.text for row in kb.model_card_actions(model, "en").inline_keyboard for b in row]
    assert texts == ["📦 File #3", "📏 Evaluate", "📤 Export ONNX", "🗑 Delete", "📈 Chart"]
    uploaded = model.model_copy(update={"session_id": None})
    assert "📈 Chart" not in [b.text for row in kb.model_card_actions(uploaded, "en").inline_keyboard for b in row]
    status = kb.status_actions([session(1, status="running")], "ru").inline_keyboard
    assert [[b.text for b in row] for row in status] == [["⏹ Стоп #1"], ["📚 Прошлые запуски", "🔢 Очередь"]]
    image = {"counts": {}, "verdict": "unchecked", "found": 0, "image_url": "/x"}
    one = RecognitionRead.model_validate({"id": 5, "model_id": 3, "params": {"conf": 0.5}, "verdict": "unchecked",
                                          "images": [{**image, "index": 0}]})
    album = one.model_copy(update={"images": [one.images[0].model_copy(update={"index": n}) for n in range(3)]})
    assert [b.text for b in kb.explain_buttons(one, "en").inline_keyboard[0]] == ["🔥 Why?"]
    assert [b.text for b in kb.explain_buttons(album, "en").inline_keyboard[0]] == ["🔥 Why? 1", "🔥 Why? 2", "🔥 Why? 3"]
