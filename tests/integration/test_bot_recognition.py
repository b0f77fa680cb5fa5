"""Photos through the real bot: the chat's settings (model, threshold, kit) are used, a photo is answered
with the annotated image and its verdict, an album is one batch with one summary."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from telegram_bot.formatting import recognition_summary, verdict_text
from tests.bot_harness import ALLOWED_USER, bot_settings, running_bot
from tests.fakes.telegram import FakeTelegram
from tests.helpers import LiveServer

pytestmark = pytest.mark.training


async def test_photo_and_album_are_recognized_with_the_chat_settings(
    live_server: LiveServer, fake_telegram: FakeTelegram, tmp_path: Path, trained_weights: Path
) -> None:
    fake, user = fake_telegram, FakeTelegram.user(ALLOWED_USER, "en")
    val = live_server.settings.data_dir / "datasets/1/images/val"
    photos = [(val / f"0000{i}.jpg").read_bytes() for i in range(3)]
    async with live_server.client() as http:
        model = (await http.post("/models", files={"file": ("tray.pt", trained_weights.read_bytes())})).json()
    async with running_bot(bot_settings(live_server.url, fake.base_url, tmp_path / "bot"), fake):
        await fake.send_text(user, "⚙️ Settings")
        card = await fake.wait_for(lambda c: "Recognition settings" in c.text)
        assert "newest detection model" in card.text and "none (count only)" in card.text
        await fake.press(user, card, card.button("Kit"))
        await fake.wait_for(lambda c: "expected number of objects" in c.text)
        await fake.send_text(user, "square=1, circle=1")
        saved = await fake.wait_for(lambda c: c.text.startswith("Saved"))
        assert "kit square=1, circle=1" in saved.text
        await fake.press(user, card, card.button("Threshold"))
        thresholds = await fake.wait_for(lambda c: "Choose the confidence threshold" in c.text)
        mark = len(fake.calls)
        await fake.press(user, thresholds, thresholds.button("0.25"))
        await fake.wait_for(lambda c: "threshold: 0.25" in c.text, since=mark)

        mark = len(fake.calls)
        await fake.send_photo(user, photos[0])
        answer = await fake.wait_for(lambda c: c.method == "sendPhoto", since=mark, timeout=60)
        async with live_server.client() as http:
            stored = (await http.get("/recognitions", params={"user": f"tg:{ALLOWED_USER}"})).json()["items"][0]
            annotated = (await http.get(stored["images"][0]["image_url"].removeprefix("/api/v1"))).content
        assert stored["model_id"] == model["id"] and stored["params"]["conf"] == 0.25
        assert stored["params"]["kit"] == {"square": 1, "circle": 1}
        assert answer.text.startswith(verdict_text(stored["images"][0], "en"))
        assert ("✅ complete" in answer.text) == (stored["verdict"] == "complete")
        assert next(iter(answer.files.values())) == annotated

        mark = len(fake.calls)
        for photo in photos:
            await fake.send_photo(user, photo, media_group_id="album-1")
        album = await fake.wait_for(lambda c: c.method == "sendMediaGroup", since=mark, timeout=60)
        summary = await fake.wait_for(lambda c: c.method == "sendMessage" and "Summary of 3 photos" in c.text, since=mark)
        assert len(album.files) == 3
        async with live_server.client() as http:
            listed = (await http.get("/recognitions", params={"user": f"tg:{ALLOWED_USER}"})).json()
        assert listed["total"] == 2 and len(listed["items"][0]["images"]) == 3  # one batch, not three requests
        assert summary.text == recognition_summary(listed["items"][0], "en")
        assert len([c for c in fake.sent("sendMessage", since=mark) if "Summary" in c.text]) == 1
        assert not fake.sent("sendPhoto", since=mark)

        mark = len(fake.calls)
        await fake.send_document(user, photos[1], filename="tray.jpg", mime="image/jpeg")  # sent as a file
        as_file = await fake.wait_for(lambda c: c.method == "sendPhoto", since=mark, timeout=60)
        assert "Found:" in as_file.text
        await fake.send_text(user, "🧠 Models")
        models = await fake.wait_for(lambda c: c.method == "sendMessage" and "Models" in c.text, since=mark)
        await fake.press(user, models, models.button(f"File #{model['id']}"))
        document = await fake.wait_for(lambda c: c.method == "sendDocument", since=mark)
        sent = next(iter(document.files.values()))  # the registry's (normalised) copy, as the API serves it
        assert hashlib.sha256(sent).hexdigest() == model["sha256"]


async def test_photo_without_any_model_is_explained(live_server: LiveServer, fake_telegram: FakeTelegram,
                                                    tmp_path: Path) -> None:
    fake, user = fake_telegram, FakeTelegram.user(ALLOWED_USER, "ru")
    async with running_bot(bot_settings(live_server.url, fake.base_url, tmp_path / "bot"), fake):
        await fake.send_photo(user, b"\xff\xd8 not used")
        reply = await fake.wait_for(lambda c: c.method == "sendMessage")
        assert "Нет модели детекции" in reply.text
