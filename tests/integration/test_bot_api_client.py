"""ApiClient against a real server: the error body becomes ApiError subclasses, an unreachable server
ApiUnavailable (after bounded retries), and calls are attributed to the Telegram user."""

from __future__ import annotations

import time

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramRetryAfter

from telegram_bot.api_client import ApiClient, ApiError, ApiNotFound, ApiUnavailable
from telegram_bot.notifier import telegram_call
from tests.bot_harness import BOT_TOKEN
from tests.fakes.telegram import FakeTelegram
from tests.helpers import ADMIN_KEY, LiveServer, free_port


async def test_errors_are_typed_and_readable(live_server: LiveServer) -> None:
    api = ApiClient.create(live_server.url, ADMIN_KEY).for_user(42)
    try:
        with pytest.raises(ApiNotFound) as not_found:
            await api.session(999)
        assert not_found.value.code == "session_not_found" and not_found.value.status == 404
        with pytest.raises(ApiError) as invalid:
            await api.create_session(task="detect", model="yolov8n.yaml", dataset=999, epochs=0)
        assert invalid.value.status == 422 and "epochs" in invalid.value.readable()
        assert (await api.health())["status"] == "ok"
    finally:
        await api.close()
    wrong_key = ApiClient.create(live_server.url, "tk_wrong")
    try:
        with pytest.raises(ApiError) as refused:
            await wrong_key.queue()
        assert refused.value.status == 401 and "tk_wrong" not in str(refused.value)
    finally:
        await wrong_key.close()


async def test_unreachable_server_is_api_unavailable_after_bounded_retries() -> None:
    api = ApiClient.create(f"http://127.0.0.1:{free_port()}", ADMIN_KEY)
    started = time.monotonic()
    try:
        with pytest.raises(ApiUnavailable):
            await api.system()
    finally:
        await api.close()
    assert time.monotonic() - started < 10


async def test_telegram_429_is_waited_out_and_not_modified_is_ignored(fake_telegram: FakeTelegram) -> None:
    fake = fake_telegram
    bot = Bot(BOT_TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
    try:
        fake.failures["sendMessage"] = [{"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                                         "parameters": {"retry_after": 1}}]
        started = time.monotonic()
        message = await telegram_call(lambda: bot.send_message(1, "hello"))
        assert message is not None and message.text == "hello" and time.monotonic() - started >= 1
        fake.failures["editMessageText"] = [{"ok": False, "error_code": 400,
                                             "description": "Bad Request: message is not modified"}]
        assert await telegram_call(lambda: bot.edit_message_text("same", chat_id=1, message_id=5)) is None
        fake.failures["sendMessage"] = [{"ok": False, "error_code": 429, "description": "Too Many Requests",
                                         "parameters": {"retry_after": 1}}] * 2
        with pytest.raises(TelegramRetryAfter):  # still limited after the last attempt: the caller decides
            await telegram_call(lambda: bot.send_message(1, "again"), attempts=2)
    finally:
        await bot.session.close()
