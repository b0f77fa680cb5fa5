"""The training wizard through the real bot creates a real run; its progress message is edited per epoch,
the end brings a chart photo, a bot restart does not lose the subscription, and Stop stops."""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import psutil
import pytest

from tests.bot_harness import ALLOWED_USER, bot_settings, running_bot
from tests.fakes.tcp_proxy import TcpProxy
from tests.fakes.telegram import Call, FakeTelegram
from tests.helpers import LiveServer
from tests.training_helpers import wait_status

pytestmark = pytest.mark.training


async def run_wizard(fake: FakeTelegram, user: dict, *, epochs: str) -> Call:
    """/train -> shapes -> yolov8n.yaml -> custom epochs -> Start; returns the progress message."""
    chat = user["id"]
    mark = len(fake.calls)
    await fake.send_text(user, "/train")
    step = await fake.wait_for(lambda c: c.method == "sendMessage" and "Step 1/4" in c.text, since=mark)
    await fake.press(user, step, step.button("shapes (detect)"))
    step = await fake.wait_for(lambda c: c.method == "editMessageText" and "Step 2/4" in c.text, since=mark)
    assert "yolo11n.yaml" in [b["text"].removeprefix("🆕 ") for b in step.buttons()]
    await fake.press(user, step, step.button("Back"))  # Back goes to step 1 and forward again
    back = await fake.wait_for(lambda c: c.method == "editMessageText" and "Step 1/4" in c.text, since=mark)
    await fake.press(user, back, back.button("shapes (detect)"))
    step = await fake.wait_for(lambda c: "Step 2/4" in c.text, since=fake.calls.index(back) + 1)
    await fake.press(user, step, step.button("yolov8n.yaml"))
    step = await fake.wait_for(lambda c: "Step 3/4" in c.text, since=mark)
    await fake.press(user, step, step.button("Custom"))
    await fake.wait_for(lambda c: "Type the number of epochs" in c.text, since=mark)
    await fake.send_text(user, "zero")
    await fake.wait_for(lambda c: "A whole number" in c.text, since=mark)
    await fake.send_text(user, epochs)
    confirm = await fake.wait_for(lambda c: "Step 4/4" in c.text and c.chat_id == chat, since=mark)
    assert f"Epochs: <b>{epochs}</b>" in confirm.text and "yolov8n.yaml" in confirm.text
    await fake.press(user, confirm, confirm.button("Start"))
    await fake.wait_for(lambda c: "created" in c.text, since=mark)
    return await fake.wait_for(lambda c: c.method == "sendMessage" and "Epoch 0/" in c.text, since=mark)


async def test_wizard_run_is_followed_per_epoch_across_a_bot_restart_and_ends_with_a_chart(
    live_server: LiveServer, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    fake, user = fake_telegram, FakeTelegram.user(ALLOWED_USER, "en")
    settings = bot_settings(live_server.url, fake.base_url, tmp_path / "bot")
    async with running_bot(settings, fake):
        progress = await run_wizard(fake, user, epochs="3")
        session_id = int(re.search(r"#(\d+)", progress.text).group(1))
        assert "Stop #" in progress.buttons()[0]["text"]
        message_id = progress.params["_message_id"]

        def edit_of_progress(c: Call) -> bool:
            return c.method == "editMessageText" and int(c.params["message_id"]) == message_id

        first = await fake.wait_for(lambda c: edit_of_progress(c) and "Epoch 1/3" in c.text, timeout=120)
        assert "█" in first.text and "box_loss" in first.text
    restart = len(fake.calls)
    async with running_bot(settings, fake):  # same BOT_DATA_DIR: the subscription is remembered
        chart = await fake.wait_for(lambda c: c.method == "sendPhoto", since=restart, timeout=120)
        assert f"Run #{session_id}" in chart.text and "completed" in chart.text and "Model #" in chart.text
        assert chart.files and next(iter(chart.files.values())).startswith(b"\x89PNG")
        final = [c for c in fake.calls if edit_of_progress(c)][-1]
        assert "Epoch 3/3" in final.text and "completed" in final.text and not final.buttons()
    async with live_server.client() as http:
        session = (await http.get(f"/sessions/{session_id}")).json()
    assert session["status"] == "completed" and session["on_behalf_of"] == f"tg:{ALLOWED_USER}"
    assert len(fake.sent("sendPhoto")) == 1  # announced once


async def test_stop_button_stops_the_run(live_server: LiveServer, fake_telegram: FakeTelegram, tmp_path: Path) -> None:
    fake, user = fake_telegram, FakeTelegram.user(ALLOWED_USER, "en")
    async with running_bot(bot_settings(live_server.url, fake.base_url, tmp_path / "bot"), fake):
        progress = await run_wizard(fake, user, epochs="300")
        session_id = int(re.search(r"#(\d+)", progress.text).group(1))
        await fake.wait_for(lambda c: c.method == "editMessageText" and "Epoch 1/300" in c.text, timeout=120)
        await fake.press(user, progress, progress.button("Stop"))
        answer = await fake.wait_for(lambda c: c.method == "answerCallbackQuery" and "Stop of run" in c.text)
        assert f"#{session_id}" in answer.text
        async with live_server.client() as http:
            await wait_status(http, session_id, "stopped", timeout=120)
        ended = await fake.wait_for(lambda c: c.method == "sendMessage" and ": stopped." in c.text, timeout=30)
        assert "Resume #" in ended.buttons()[0]["text"]


async def test_followers_are_told_when_the_server_drops_and_catch_up_when_it_returns(
    fake_telegram: FakeTelegram, settings, tmp_path: Path
) -> None:
    fake, user = fake_telegram, FakeTelegram.user(ALLOWED_USER, "en")
    server = LiveServer(settings).__enter__()
    port = server.port
    try:
        async with running_bot(bot_settings(server.url, fake.base_url, tmp_path / "bot"), fake):
            progress = await run_wizard(fake, user, epochs="300")
            session_id = int(re.search(r"#(\d+)", progress.text).group(1))
            await fake.wait_for(lambda c: c.method == "editMessageText" and "running" in c.text, timeout=120)
            server.__exit__(None, None, None)  # the server goes away under a running session
            down = await fake.wait_for(lambda c: c.method == "sendMessage" and "Lost the connection" in c.text)
            assert down.chat_id == ALLOWED_USER
            server = LiveServer(settings, port=port).__enter__()  # the same address, as after a restart
            mark = len(fake.calls)
            await fake.wait_for(lambda c: "reachable again" in c.text, since=mark, timeout=60)
            # Caught up: the run was interrupted by the restart and queued again (AUTO_RESUME), then runs.
            await fake.wait_for(lambda c: c.method == "editMessageText" and f"#{session_id}" in c.text
                                and ("queued" in c.text or "running" in c.text), since=mark, timeout=60)
            async with server.client() as http:
                await http.post(f"/sessions/{session_id}/stop")
                await wait_status(http, session_id, "stopped", "cancelled", timeout=120)
    finally:
        server.__exit__(None, None, None)


async def test_a_failed_run_shows_its_reason_and_the_log_is_paged(live_server: LiveServer, fake_telegram: FakeTelegram,
                                                                   tmp_path: Path) -> None:
    fake, user = fake_telegram, FakeTelegram.user(ALLOWED_USER, "en")
    async with running_bot(bot_settings(live_server.url, fake.base_url, tmp_path / "bot", log_page_lines=5), fake):
        progress = await run_wizard(fake, user, epochs="50")
        session_id = int(re.search(r"#(\d+)", progress.text).group(1))
        await fake.wait_for(lambda c: c.method == "editMessageText" and "Epoch 1/50" in c.text, timeout=120)
        trainers = [c for c in psutil.Process().children() if "spawn" in " ".join(c.cmdline())]
        trainers[0].send_signal(signal.SIGKILL)
        failed = await fake.wait_for(lambda c: c.method == "sendMessage" and "failed" in c.text, timeout=60)
        assert f"Run #{session_id}" in failed.text and "SIGKILL" in failed.text and "<pre>" in failed.text

        mark = len(fake.calls)
        await fake.send_text(user, "📜 Logs")
        pick = await fake.wait_for(lambda c: c.method == "sendMessage" and "Which run" in c.text, since=mark)
        await fake.press(user, pick, pick.button(f"#{session_id} "))
        last = await fake.wait_for(lambda c: c.method == "sendMessage" and f"Log #{session_id}" in c.text, since=mark)
        total = int(re.search(r"of (\d+)", last.text).group(1))
        assert total > 5 and f"lines {total - 4}–{total} of {total}" in last.text
        assert [b["text"] for b in last.buttons()] == ["⬅️ Older"]
        await fake.press(user, last, last.button("Older"))
        older = await fake.wait_for(lambda c: c.method == "editMessageText" and f"Log #{session_id}" in c.text,
                                    since=mark)
        assert f"lines {total - 9}–{total - 5} of {total}" in older.text
        assert {b["text"] for b in older.buttons()} >= {"Newer ➡️"}


@pytest.mark.reliability
# "silent" (packets dropped, found by the heartbeat) is the slow tier: "abrupt" covers the catching-up.
@pytest.mark.parametrize("how", ["abrupt", pytest.param("silent", marks=pytest.mark.slow)])
async def test_a_dropped_connection_is_noticed_and_what_it_missed_is_caught_up(
    how: str, live_server: LiveServer, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    fake, user = fake_telegram, FakeTelegram.user(ALLOWED_USER, "en")
    proxy = await TcpProxy(live_server.port).start()  # the network between the bot and a server that stays up
    try:
        async with running_bot(bot_settings(proxy.url, fake.base_url, tmp_path / "bot"), fake):
            progress = await run_wizard(fake, user, epochs="3")
            session_id = int(re.search(r"#(\d+)", progress.text).group(1))
            message_id = progress.params["_message_id"]
            await proxy.cut(how)
            cut_at = time.monotonic()
            await fake.wait_for(lambda c: c.method == "sendMessage" and "Lost the connection" in c.text, timeout=60)
            noticed_s = time.monotonic() - cut_at
            async with live_server.client() as http:  # meanwhile the run goes on, and ends, unseen
                await wait_status(http, session_id, "completed", timeout=120)
            assert not fake.sent("sendPhoto")
            mark = len(fake.calls)
            await proxy.restore()
            restored_at = time.monotonic()
            chart = await fake.wait_for(lambda c: c.method == "sendPhoto", since=mark, timeout=60)
            caught_up_s = time.monotonic() - restored_at
            assert f"Run #{session_id}" in chart.text and "completed" in chart.text
            final = [c for c in fake.calls if c.method == "editMessageText" and int(c.params["message_id"]) == message_id]
            assert "Epoch 3/3" in final[-1].text and "completed" in final[-1].text
            await fake.wait_for(lambda c: "reachable again" in c.text, since=mark, timeout=60)
    finally:
        await proxy.close()
    print(f"{how} drop: noticed in {noticed_s:.1f} s, caught up {caught_up_s:.1f} s after the network returned")
