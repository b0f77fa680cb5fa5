"""Issue 16 through the real bot, the fake Bot API and one real server: runs started with curl are announced by
each chat's Notifications setting (picked up at start, never twice across a restart); the queue is reordered and
cancelled, a past run's chart shown and a run deleted from buttons; a .pt becomes a model that is evaluated,
exported to ONNX and deleted with a confirmation; a recognition's Why?, My history and my summary."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import onnx
import pytest

from tests.bot_harness import ALLOWED_USER, SECOND_USER, bot_settings, running_bot
from tests.fakes.telegram import Call, FakeTelegram
from tests.helpers import LiveServer, make_settings
from tests.training_helpers import create_session, wait_for, wait_status

pytestmark = pytest.mark.training


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path_factory.mktemp("parity") / "data")) as live:
        yield live


def card_of(session_id: int, chat: int) -> Callable[[Call], bool]:
    """The run's progress message (a session card) sent to the chat."""
    return lambda c: c.method == "sendMessage" and c.chat_id == chat and c.text.startswith(f"#{session_id} <b>")


async def choose_notifications(fake: FakeTelegram, user: dict, choice: str) -> None:
    mark = len(fake.calls)
    await fake.send_text(user, "/settings")
    card = await fake.wait_for(lambda c: c.chat_id == user["id"] and "Notifications: runs I started" in c.text, since=mark)
    await fake.press(user, card, card.button("Notifications"))
    modes = await fake.wait_for(lambda c: "Which runs should this chat hear about" in c.text, since=mark)
    await fake.press(user, modes, modes.button(choice))
    await fake.wait_for(lambda c: c.method == "editMessageText" and f"Notifications: {choice}" in c.text, since=mark)


async def test_curl_runs_are_announced_by_setting_and_the_queue_and_past_runs_work_from_buttons(
    server: LiveServer, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    fake, ann, bob = fake_telegram, FakeTelegram.user(ALLOWED_USER, "en"), FakeTelegram.user(SECOND_USER, "en")
    settings = bot_settings(server.url, fake.base_url, tmp_path / "bot")
    async with running_bot(settings, fake):
        await choose_notifications(fake, ann, "all runs")
        await choose_notifications(fake, bob, "none")
    quiet_from = len(fake.calls)
    async with server.client() as http:  # as curl would: no X-On-Behalf-Of
        run = await create_session(http, name="curl-run", epochs=300)
        async with running_bot(settings, fake):  # started while the run goes: picks it up
            await fake.wait_for(card_of(run["id"], ALLOWED_USER), timeout=30)
            first, second = [await create_session(http, name=f"curl-{n}", epochs=300) for n in (1, 2)]
            for queued in (first, second):  # from the event stream
                await fake.wait_for(card_of(queued["id"], ALLOWED_USER), timeout=30)

            mark = len(fake.calls)
            await fake.send_text(ann, "/queue")
            listing = await fake.wait_for(lambda c: c.method == "sendMessage" and "<b>Queue</b>" in c.text, since=mark)
            assert listing.text.index(f"#{first['id']}") < listing.text.index(f"#{second['id']}")
            await fake.press(ann, listing, listing.button(f"⬇️ #{first['id']}"))
            moved = await fake.wait_for(lambda c: c.method == "editMessageText" and "<b>Queue</b>" in c.text, since=mark)
            assert moved.text.index(f"#{second['id']}") < moved.text.index(f"#{first['id']}")
            queue = (await http.get("/queue")).json()
            assert [s["id"] for s in queue["queued"]] == [second["id"], first["id"]]
            for queued, answer in ((second, "No"), (second, "Yes"), (first, "Yes")):
                mark = len(fake.calls)
                await fake.press(ann, moved, moved.button(f"Cancel #{queued['id']}"))
                ask = await fake.wait_for(lambda c: "Cancel run #" in c.text, since=mark)
                await fake.press(ann, ask, ask.button(answer))
                asked = ask.params["_message_id"]
                await fake.wait_for(lambda c, m=asked: c.method == "editMessageText"
                                    and int(c.params.get("message_id", 0)) == m, since=mark)
                assert (await http.get(f"/sessions/{queued['id']}")).json()["status"] == (
                    "queued" if answer == "No" else "cancelled")
            for queued in (first, second):  # each card ends as cancelled, once
                await fake.wait_for(lambda c, q=queued: f"#{q['id']}" in c.text and "cancelled" in c.text
                                    and c.method == "sendMessage")
            await wait_for(http, run["id"], lambda s: s["progress"]["epoch"] >= 1, timeout=120, what="one epoch")
        restart = len(fake.calls)
        async with running_bot(settings, fake) as bot:  # a restart: catches up, repeats nothing
            for _ in range(100):
                if bot.notifier._stream.connected:
                    break
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.5)
            await http.post(f"/sessions/{run['id']}/stop")
            await wait_status(http, run["id"], "stopped", timeout=120)
            ended = await fake.wait_for(lambda c: c.method == "sendMessage" and f"Run #{run['id']}" in c.text
                                        and ": stopped." in c.text, since=restart, timeout=60)
            assert ended.chat_id == ALLOWED_USER and "Resume" in ended.buttons()[0]["text"]
            assert not [c for c in fake.sent("sendMessage", since=restart) if c.text.startswith("#")]

            mark = cards_end = len(fake.calls)
            await fake.send_text(ann, "/runs")
            runs = await fake.wait_for(lambda c: c.method == "sendMessage" and "<b>Runs</b>" in c.text, since=mark)
            assert "curl-run" in runs.text and "stopped" in runs.text and "cancelled" in runs.text
            await fake.press(ann, runs, runs.button(f"#{run['id']} curl-run"))
            card = await fake.wait_for(lambda c: c.method == "sendMessage" and "Chart" in str(c.buttons()), since=mark)
            await fake.press(ann, card, card.button("Chart"))
            chart = await fake.wait_for(lambda c: c.method == "sendPhoto", since=mark, timeout=30)
            assert next(iter(chart.files.values())).startswith(b"\x89PNG")
            await fake.press(ann, runs, runs.button(f"#{first['id']} "))
            card = await fake.wait_for(lambda c: "Delete" in str(c.buttons()) and f"#{first['id']}" in c.text, since=mark)
            await fake.press(ann, card, card.button("Delete"))
            ask = await fake.wait_for(lambda c: f"Delete run #{first['id']}" in c.text, since=mark)
            await fake.press(ann, ask, ask.button("Yes"))
            await fake.wait_for(lambda c: f"Run #{first['id']} deleted" in c.text, since=mark)
            assert (await http.get(f"/sessions/{first['id']}")).status_code == 404
    for session_id in (run["id"], first["id"], second["id"]):  # one progress message each, in Ann's chat only
        assert len([c for c in fake.calls[:cards_end] if card_of(session_id, ALLOWED_USER)(c)]) == 1
    assert fake.sent("sendMessage", since=quiet_from, chat_id=SECOND_USER) == []
    assert fake.sent("editMessageText", since=quiet_from, chat_id=SECOND_USER) == []


async def test_a_pt_becomes_a_model_evaluated_exported_deleted_and_recognitions_explained_from_buttons(
    server: LiveServer, fake_telegram: FakeTelegram, tmp_path: Path, trained_weights: Path
) -> None:
    fake, ann = fake_telegram, FakeTelegram.user(ALLOWED_USER, "en")
    async with server.client() as http:  # the other test's runs, if it failed half-way, must not hold the queue
        for active in (await http.get("/sessions", params={"status": ["queued", "running"]})).json()["items"]:
            await http.post(f"/sessions/{active['id']}/stop")
    async with running_bot(bot_settings(server.url, fake.base_url, tmp_path / "bot"), fake):
        await fake.send_document(ann, trained_weights.read_bytes(), filename="tray.pt", mime="application/octet-stream")
        created = await fake.wait_for(lambda c: "registered" in c.text, timeout=120)
        model_id = int(re.search(r"Model #(\d+)", created.text).group(1))
        assert "square" in created.text

        await fake.press(ann, created, created.button("Evaluate"))
        pick = await fake.wait_for(lambda c: "on which dataset" in c.text)
        await fake.press(ann, pick, pick.button("shapes"))
        result = await fake.wait_for(lambda c: c.method == "editMessageText" and "mAP50-95" in c.text, timeout=180)
        assert "precision" in result.text and "recall" in result.text and "\n• " in result.text

        await fake.press(ann, created, created.button("Export ONNX"))
        document = await fake.wait_for(lambda c: c.method == "sendDocument", timeout=180)
        onnx.checker.check_model(onnx.load_model(io.BytesIO(next(iter(document.files.values())))))
        assert f"model #{model_id}" in document.text

        mark = len(fake.calls)
        photo = (server.settings.data_dir / "datasets/1/images/val/00000.jpg").read_bytes()
        await fake.send_photo(ann, photo)
        answer = await fake.wait_for(lambda c: c.method == "sendPhoto", since=mark, timeout=60)
        await fake.press(ann, answer, answer.button("Why?"))
        why = await fake.wait_for(lambda c: c.method == "sendPhoto" and "Why?" in c.text, since=mark, timeout=60)
        assert next(iter(why.files.values())).startswith(b"\xff\xd8")

        mark = len(fake.calls)
        await fake.send_text(ann, "📷 Recognize")
        hint = await fake.wait_for(lambda c: "My history" in str(c.buttons()), since=mark)
        await fake.press(ann, hint, hint.button("My history"))
        history = await fake.wait_for(lambda c: "My recognitions" in c.text, since=mark)
        recognition_id = int(re.search(r"#(\d+) ·", history.text).group(1))
        await fake.press(ann, history, history.button(f"#{recognition_id}"))
        again = await fake.wait_for(lambda c: c.method == "sendPhoto", since=mark, timeout=30)
        assert next(iter(again.files.values())) == next(iter(answer.files.values()))
        await fake.press(ann, hint, hint.button("My summary"))
        summary = await fake.wait_for(lambda c: "<b>My recognitions</b>: 1," in c.text, since=mark)
        assert "unchecked 1" in summary.text

        for answer_text in ("No", "Yes"):
            mark = len(fake.calls)
            await fake.press(ann, created, created.button("Delete"))
            ask = await fake.wait_for(lambda c: f"Delete model #{model_id}" in c.text, since=mark)
            await fake.press(ann, ask, ask.button(answer_text))
            await fake.wait_for(lambda c: c.method == "editMessageText", since=mark)
        async with server.client() as http:
            assert (await http.get(f"/models/{model_id}")).status_code == 404
