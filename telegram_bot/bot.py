"""Builds the bot: Bot (pointed at TELEGRAM_API_URL), Dispatcher with middlewares and routers, notifier."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.utils.callback_answer import CallbackAnswerMiddleware

from telegram_bot.ai.assistant import Assistant
from telegram_bot.albums import AlbumCollector
from telegram_bot.api_client import ApiClient
from telegram_bot.config import OFFICIAL_BOT_API, BotSettings
from telegram_bot.handlers import get_routers
from telegram_bot.handlers.start import bot_commands, command_languages
from telegram_bot.i18n import setup_i18n
from telegram_bot.middlewares import AccessMiddleware, ContextMiddleware
from telegram_bot.notifier import ProgressNotifier
from telegram_bot.storage import BotStorage
from telegram_bot.telegram_retry import RetryAfterMiddleware

logger = logging.getLogger(__name__)


def create_bot(settings: BotSettings) -> Bot:
    session = None
    if settings.telegram_api_url.rstrip("/") != OFFICIAL_BOT_API:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url.rstrip("/")))
    bot = Bot(settings.bot_token.get_secret_value(), session=session, default=DefaultBotProperties(parse_mode="HTML"))
    bot.session.middleware(RetryAfterMiddleware())
    return bot


def build_dispatcher(settings: BotSettings, *, api: ApiClient, chat_store: BotStorage, notifier: ProgressNotifier) -> Dispatcher:
    assistant = Assistant.from_settings(settings)  # Chat with AI; its LLM client is closed with the dispatcher
    dispatcher = Dispatcher(storage=MemoryStorage(), settings=settings, chat_store=chat_store, notifier=notifier,
                            albums=AlbumCollector(settings.album_wait_s), assistant=assistant)
    dispatcher.shutdown.register(assistant.close)
    setup_i18n(dispatcher)  # first: the refusal of a stranger is in their language too
    dispatcher.update.outer_middleware(AccessMiddleware(settings.allowed_users))
    dispatcher.update.outer_middleware(ContextMiddleware(api))
    dispatcher.callback_query.middleware(CallbackAnswerMiddleware())
    dispatcher.include_routers(*get_routers())
    return dispatcher


@dataclass
class BotRuntime:
    """Everything the running bot holds; `run()` polls until stopped and then closes it all."""

    settings: BotSettings
    bot: Bot
    api: ApiClient
    chat_store: BotStorage
    notifier: ProgressNotifier
    dispatcher: Dispatcher

    @classmethod
    async def create(cls, settings: BotSettings) -> BotRuntime:
        bot = create_bot(settings)
        api = ApiClient.create(settings.api_url, settings.api_key.get_secret_value())
        chat_store = await BotStorage.open(settings.database_path)
        notifier = ProgressNotifier(bot, api, chat_store, edit_interval_s=settings.edit_interval_s,
                                    poll_interval_s=settings.poll_interval_s,
                                    crossing_interval_s=settings.crossing_interval_s,
                                    allowed_users=settings.allowed_users)
        dispatcher = build_dispatcher(settings, api=api, chat_store=chat_store, notifier=notifier)
        return cls(settings, bot, api, chat_store, notifier, dispatcher)

    async def run(self, *, handle_signals: bool = True) -> None:
        try:
            await self._register_commands()
            await self.notifier.start()
            await self.dispatcher.start_polling(self.bot, handle_signals=handle_signals, polling_timeout=10)
        finally:
            await self.notifier.stop()
            await self.api.close()
            await self.chat_store.close()
            await self.bot.session.close()

    async def stop(self) -> None:
        await self.dispatcher.stop_polling()

    async def _register_commands(self) -> None:
        for language_code, lang in command_languages():
            await self.bot.set_my_commands(bot_commands(lang), language_code=language_code)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request is noise
    # At DEBUG these print request headers, the API key among them: never below INFO.
    for leaky in ("httpcore", "websockets"):
        logging.getLogger(leaky).setLevel(max(logging.INFO, logging.getLogger().level))


async def main(settings: BotSettings) -> None:
    configure_logging(settings.log_level)
    if not settings.allowed_users:
        logger.warning("ALLOWED_USERS is empty: the bot will refuse everybody")
    runtime = await BotRuntime.create(settings)
    logger.info("bot started; server %s, Bot API %s", settings.api_url, settings.telegram_api_url)
    await runtime.run()
