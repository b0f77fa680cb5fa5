"""python -m telegram_bot: reads BOT_TOKEN, API_URL, API_KEY, ALLOWED_USERS, ... from the environment or .env."""

from __future__ import annotations

import asyncio
import sys

from pydantic import ValidationError

from telegram_bot.bot import main
from telegram_bot.config import BotSettings


def run() -> int:
    try:
        settings = BotSettings()  # type: ignore[call-arg]
    except ValidationError as exc:
        missing = ", ".join(str(error["loc"][0]).upper() for error in exc.errors())
        print(f"Bot settings are incomplete or invalid: {missing}. See README (Telegram bot).", file=sys.stderr)
        return 2
    try:
        asyncio.run(main(settings))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(run())
