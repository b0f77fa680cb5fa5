"""Runs the real bot (real aiogram Dispatcher polling) against the fake Bot API and a real API server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from telegram_bot.bot import BotRuntime
from telegram_bot.config import BotSettings
from tests.fakes.telegram import FakeTelegram
from tests.helpers import ADMIN_KEY

ALLOWED_USER = 4242
SECOND_USER = 4343
STRANGER = 777
BOT_TOKEN = "123456:TEST-token"


def bot_settings(api_url: str, telegram_url: str, data_dir: Path, **overrides: Any) -> BotSettings:
    values: dict[str, Any] = {
        "bot_token": BOT_TOKEN, "api_url": api_url, "api_key": ADMIN_KEY, "telegram_api_url": telegram_url,
        "allowed_users": [ALLOWED_USER, SECOND_USER], "bot_data_dir": data_dir, "edit_interval_s": 0.2,
        "poll_interval_s": 0.5, "album_wait_s": 0.5,
    }
    values.update(overrides)
    return BotSettings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def running_bot(settings: BotSettings, fake: FakeTelegram) -> AsyncIterator[BotRuntime]:
    """Start polling; yield once the bot asked getMe (polling has begun); stop and close on exit."""
    since = len(fake.calls)
    runtime = await BotRuntime.create(settings)
    task = asyncio.create_task(runtime.run(handle_signals=False))
    try:
        await fake.wait_for(lambda call: call.method == "getMe", since=since, timeout=30)
        yield runtime
    finally:
        if not task.done():
            await runtime.stop()
        await asyncio.wait_for(task, timeout=30)
