"""The real bot against the fake Bot API and a real server: menu, access, status, datasets, server down."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

from telegram_bot.keyboards import MENU_KEYS
from tests.archives import detection_folder, zip_folder
from tests.bot_harness import ALLOWED_USER, BOT_TOKEN, SECOND_USER, STRANGER, bot_settings, running_bot
from tests.fakes.telegram import FakeTelegram
from tests.helpers import ADMIN_KEY, ROOT, LiveServer


async def test_start_gives_menu_and_a_stranger_only_one_refusal(live_server: LiveServer, fake_telegram: FakeTelegram,
                                                                 tmp_path: Path) -> None:
    fake = fake_telegram
    async with running_bot(bot_settings(live_server.url, fake.base_url, tmp_path / "bot"), fake):
        commands = await fake.wait_for(lambda c: c.method == "setMyCommands")
        assert "/train" not in commands.params["commands"] and '"train"' in commands.params["commands"]
        await fake.send_text(FakeTelegram.user(ALLOWED_USER, "en"), "/start")
        menu = await fake.wait_for(lambda c: c.method == "sendMessage" and c.chat_id == ALLOWED_USER)
        keyboard = [button["text"] for row in menu.markup()["keyboard"] for button in row]
        assert "🏋️ Train" in keyboard and "📡 Streams" in keyboard and len(keyboard) == len(MENU_KEYS)
        assert "Hi, Ann" in menu.text

        stranger = FakeTelegram.user(STRANGER, "en")
        await fake.send_text(stranger, "/start")
        await fake.send_text(stranger, "/status")
        refusal = await fake.wait_for(lambda c: c.chat_id == STRANGER)
        assert "invited users only" in refusal.text and "reply_markup" not in refusal.params
        # A user whose language is neither ru nor en gets Russian, the default.
        mark = len(fake.calls)
        await fake.send_text(FakeTelegram.user(SECOND_USER, "de"), "/help")
        help_reply = await fake.wait_for(lambda c: c.chat_id == SECOND_USER, since=mark)
        assert "Команды" in help_reply.text
        assert len(fake.sent("sendMessage", chat_id=STRANGER)) == 1


async def test_status_lists_server_load_and_server_down_is_said(fake_telegram: FakeTelegram, settings,
                                                                tmp_path: Path) -> None:
    fake, user = fake_telegram, FakeTelegram.user(ALLOWED_USER, "en")
    server = LiveServer(settings).__enter__()
    try:
        async with running_bot(bot_settings(server.url, fake.base_url, tmp_path / "bot"), fake):
            await fake.send_text(user, "📊 Status")
            status = await fake.wait_for(lambda c: c.method == "sendMessage" and "CPU" in c.text)
            assert "No active runs" in status.text and "GPU: none" in status.text
            server.__exit__(None, None, None)
            mark = len(fake.calls)
            await fake.send_text(user, "/status")
            down = await fake.wait_for(lambda c: c.method == "sendMessage", since=mark, timeout=30)
            assert "server is unavailable" in down.text
    finally:
        server.__exit__(None, None, None)


async def test_zip_document_becomes_a_dataset_and_big_files_are_explained(
    live_server: LiveServer, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    fake, user = fake_telegram, FakeTelegram.user(ALLOWED_USER, "en")
    archive = zip_folder(detection_folder(tmp_path / "tray"))
    async with running_bot(bot_settings(live_server.url, fake.base_url, tmp_path / "bot"), fake):
        await fake.send_document(user, archive, filename="tray.zip", mime="application/zip")
        created = await fake.wait_for(lambda c: "added" in c.text, timeout=60)
        assert "“tray” added: 8 images" in created.text and "square" in created.text
        dataset_id = int(re.search(r"#(\d+)", created.text).group(1))
        async with live_server.client() as http:
            dataset = (await http.get(f"/datasets/{dataset_id}")).json()
        assert dataset["name"] == "tray" and dataset["original_filename"] == "tray.zip"

        mark = len(fake.calls)
        await fake.send_document(user, b"PK", filename="huge.zip", mime="application/zip", declared_size=25 * 2**20)
        too_big = await fake.wait_for(lambda c: c.method == "sendMessage", since=mark)
        assert "25.0 MB" in too_big.text and "at most 20 MB" in too_big.text
        mark = len(fake.calls)
        await fake.send_text(user, "🗂 Datasets")
        listing = await fake.wait_for(lambda c: c.method == "sendMessage", since=mark)
        assert "#1 <b>shapes</b>" in listing.text and f"#{dataset_id} <b>tray</b>" in listing.text


async def test_python_m_telegram_bot_runs_and_never_prints_the_api_key(
    live_server: LiveServer, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    fake = fake_telegram
    env = {**os.environ, "BOT_TOKEN": BOT_TOKEN, "API_URL": live_server.url, "API_KEY": ADMIN_KEY,
           "ALLOWED_USERS": f"{ALLOWED_USER}", "TELEGRAM_API_URL": fake.base_url, "BOT_DATA_DIR": str(tmp_path / "b"),
           "LOG_LEVEL": "debug"}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "telegram_bot", env=env, cwd=ROOT,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        await fake.wait_for(lambda c: c.method == "getMe", timeout=60)
        await fake.send_text(FakeTelegram.user(ALLOWED_USER, "ru"), "/start")
        menu = await fake.wait_for(lambda c: c.method == "sendMessage", timeout=30)
        assert "Привет" in menu.text and menu.markup()["keyboard"][0][0]["text"] == "🏋️ Обучение"
    finally:
        proc.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert ADMIN_KEY not in output.decode() and "bot started" in output.decode()

    missing = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "telegram_bot", env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)}, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(missing.communicate(), timeout=30)
    assert missing.returncode == 2 and b"BOT_TOKEN" in output and b"API_KEY" in output
