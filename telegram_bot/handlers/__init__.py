"""The bot's routers, one per feature; the error router comes last."""

from __future__ import annotations

from aiogram import Router

from telegram_bot.handlers import (
    ai_chat,
    catalog,
    errors,
    history,
    models,
    recognize,
    runs,
    sessions,
    settings,
    start,
    streams,
    train,
)


def get_routers() -> list[Router]:
    # train and settings before recognize: their text steps must win over a plain message.
    modules = (start, train, settings, sessions, runs, catalog, models, history, streams, ai_chat, recognize, errors)
    return [module.create_router() for module in modules]
