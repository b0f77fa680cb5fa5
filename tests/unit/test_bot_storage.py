"""The bot's own SQLite: chat settings and subscriptions survive a reopen (a bot restart)."""

from __future__ import annotations

from pathlib import Path

from telegram_bot.storage import BotStorage, ChatSettings


async def test_settings_and_subscriptions_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "bot" / "bot.db"
    store = await BotStorage.open(path)
    assert await store.chat_settings(1) == ChatSettings(1)
    await store.save_chat_settings(ChatSettings(1, model_id=3, conf=0.4, kit={"wrench": 2}))
    await store.subscribe(chat_id=1, session_id=5, message_id=99, lang="en")
    await store.subscribe(chat_id=2, session_id=5, message_id=12, lang="ru")
    await store.close()

    store = await BotStorage.open(path)
    try:
        assert await store.chat_settings(1) == ChatSettings(1, model_id=3, conf=0.4, kit={"wrench": 2})
        assert {(s.chat_id, s.message_id, s.lang) for s in await store.active_subscriptions()} == {
            (1, 99, "en"), (2, 12, "ru")}
        assert await store.mark_finished(chat_id=1, session_id=5) is True
        assert await store.mark_finished(chat_id=1, session_id=5) is False  # announced once
        assert [s.chat_id for s in await store.active_subscriptions()] == [2]
        await store.subscribe(chat_id=1, session_id=5, message_id=100, lang="en")  # resumed: followed again
        assert len(await store.active_subscriptions()) == 2
    finally:
        await store.close()
