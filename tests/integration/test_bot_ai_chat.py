"""Chat with AI through the real bot, the real API server and a scripted OpenAI-compatible server on 127.0.0.1:
answers come from real API data through tools, changes wait for Confirm, and a bad LLM gets a clear message."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.bot_harness import ALLOWED_USER, STRANGER, bot_settings, running_bot
from tests.fakes.llm import Body, FakeLlm, Reply, last_tool_result
from tests.fakes.telegram import Call, FakeTelegram
from tests.helpers import ADMIN_KEY, LiveServer
from tests.training_helpers import create_session

TOOLS = {"list_sessions", "get_session", "get_metrics", "get_logs", "get_queue", "system_status", "list_models",
         "list_datasets", "start_session", "stop_session"}


@pytest.fixture
async def fake_llm() -> AsyncIterator[FakeLlm]:
    fake = await FakeLlm().start()
    try:
        yield fake
    finally:
        await fake.close()


def llm_settings(server: LiveServer, fake: FakeTelegram, llm: FakeLlm, tmp_path: Path, **overrides: Any) -> Any:
    return bot_settings(server.url, fake.base_url, tmp_path / "bot", llm_base_url=llm.base_url, llm_model="fake-7b",
                        llm_api_key="llm-secret", **overrides)


async def ask(fake: FakeTelegram, user: dict[str, Any], text: str, done: str) -> tuple[Call, Call]:
    """Sends `text`; returns the "thinking" message and its final edit (the one whose text has `done`)."""
    mark = len(fake.calls)
    await fake.send_text(user, text)
    placeholder = await fake.wait_for(lambda c: c.method == "sendMessage" and "Thinking" in c.text, since=mark)
    message_id = placeholder.params["_message_id"]
    final = await fake.wait_for(lambda c: c.method == "editMessageText" and int(c.params["message_id"]) == message_id
                                and done in c.text and not c.text.endswith("▌"), since=mark, timeout=30)
    return placeholder, final


def answer_from_queue(body: Body) -> Reply:
    """The model's second step: an answer built from the queue the bot's tool fetched from the API."""
    queue = last_tool_result(body)
    run = [*queue["running"], *queue["queued"]][0]
    return Reply(text=f"Now training: run #{run['id']} {run['name']}, status {run['status']}, "
                      f"epoch {run['progress']['epoch']} of {run['progress']['epochs']}. That is all for now.",
                 chunk_delay_s=0.05)


async def test_a_question_about_the_running_session_is_answered_from_real_api_data_and_remembered(
    live_server: LiveServer, fake_telegram: FakeTelegram, fake_llm: FakeLlm, tmp_path: Path
) -> None:
    fake, llm, user = fake_telegram, fake_llm, FakeTelegram.user(ALLOWED_USER, "en")
    async with live_server.client() as http:
        session = await create_session(http, name="ai-probe", epochs=50)
    llm.script(Reply(tool_calls=[("get_queue", {})]), answer_from_queue)
    try:
        async with running_bot(llm_settings(live_server, fake, llm, tmp_path), fake):
            await fake.send_text(user, "💬 Chat with AI")
            intro = await fake.wait_for(lambda c: c.method == "sendMessage" and "Ask me about the server" in c.text)
            assert [b["text"] for b in intro.buttons()] == ["🧹 Clear"]
            placeholder, final = await ask(fake, user, "what's training now?", "That is all for now.")

            first, second = llm.requests
            assert set(first.tool_names) == TOOLS and first.body["stream"] is True and first.body["model"] == "fake-7b"
            assert first.body["messages"][-1] == {"role": "user", "content": "what's training now?"}
            assert first.headers["authorization"] == "Bearer llm-secret"
            tool_message = second.body["messages"][-1]
            assert tool_message["role"] == "tool" and tool_message["tool_call_id"] == "call_0_x"
            run = [*last_tool_result(second.body)["running"], *last_tool_result(second.body)["queued"]][0]
            assert run["id"] == session["id"] and run["name"] == "ai-probe" and run["status"] in ("queued", "running")
            assert run["progress"]["epochs"] == 50
            assert f"Now training: run #{session['id']} ai-probe, status {run['status']}, epoch" in final.text
            assert [b["text"] for b in final.buttons()] == ["🧹 Clear"]
            edits = [c for c in fake.sent("editMessageText")
                     if int(c.params["message_id"]) == placeholder.params["_message_id"]]
            assert any(c.text.endswith("▌") for c in edits[:-1]), [c.text for c in edits]  # streamed, then final
            assert all(ADMIN_KEY not in r.raw.decode() and ADMIN_KEY not in str(r.headers) for r in llm.requests)

            def remembers(body: Body) -> Reply:
                contents = [str(m.get("content")) for m in body["messages"]]
                assert "what's training now?" in contents and any("ai-probe" in c for c in contents)
                return Reply(text="It is called ai-probe.")

            llm.script(remembers)
            await ask(fake, user, "and its name?", "It is called ai-probe.")
            mark = len(fake.calls)
            await fake.press(user, final, final.button("Clear"))
            await fake.wait_for(lambda c: c.method == "answerCallbackQuery" and "cleared" in c.text, since=mark)
            llm.script(lambda body: Reply(text=f"I remember {len(body['messages'])} messages."))
            await ask(fake, user, "what did I ask?", "I remember 2 messages.")  # the system prompt and this question

            llm.script(Reply(tool_calls=[("stop_session", {"session_id": session["id"]})]))
            _, proposal = await ask(fake, user, "stop it", f"I will stop run #{session['id']}")
            assert "ai-probe" in proposal.text
            mark = len(fake.calls)
            await fake.press(user, proposal, proposal.button("Confirm"))
            await fake.wait_for(lambda c: c.method == "editMessageText" and "stop requested" in c.text, since=mark)
            async with live_server.client() as http:
                stopped = (await http.get(f"/sessions/{session['id']}")).json()
            assert stopped["stop_requested"] or stopped["status"] in ("cancelled", "stopped")
            assert llm.unused == 0
    finally:
        async with live_server.client() as http:
            await http.post(f"/sessions/{session['id']}/stop")


async def test_start_training_asks_first_and_creates_the_session_only_after_confirm(
    live_server: LiveServer, fake_telegram: FakeTelegram, fake_llm: FakeLlm, tmp_path: Path
) -> None:
    fake, llm, user = fake_telegram, fake_llm, FakeTelegram.user(ALLOWED_USER, "en")
    start = Reply(text="Sure.", tool_calls=[("start_session", {"dataset": 1, "model": "yolo11n", "epochs": 30})])
    llm.script(start)
    async with running_bot(llm_settings(live_server, fake, llm, tmp_path), fake), live_server.client() as http:
        _, proposal = await ask(fake, user, "/ask start 30 epochs of yolo11n on shapes", "I will start training")
        assert "#1 shapes" in proposal.text and "yolo11n.yaml" in proposal.text and "30 epochs" in proposal.text
        assert [b["text"] for b in proposal.buttons()] == ["✅ Confirm", "✖️ Cancel"]
        assert (await http.get("/sessions")).json()["total"] == 0
        assert len(llm.requests) == 1  # a proposal ends the question: the model is not asked again
        mark = len(fake.calls)
        await fake.press(user, proposal, proposal.button("Cancel"))
        await fake.wait_for(lambda c: c.method == "editMessageText" and "Cancelled, nothing was done" in c.text,
                            since=mark)
        assert (await http.get("/sessions")).json()["total"] == 0

        llm.script(start)
        _, proposal = await ask(fake, user, "/ask start it after all", "I will start training")
        assert "cancelled by the user" in str(llm.requests[-1].body["messages"])  # memory knows the first one's fate
        mark = len(fake.calls)
        await fake.press(user, proposal, proposal.button("Confirm"))
        done = await fake.wait_for(lambda c: c.method == "editMessageText" and "created" in c.text, since=mark)
        sessions = (await http.get("/sessions")).json()
        assert sessions["total"] == 1
        created = sessions["items"][0]
        assert f"Run #{created['id']}" in done.text and created["model"] == "yolo11n.yaml"
        assert created["progress"]["epochs"] == 30 and created["on_behalf_of"] == f"tg:{ALLOWED_USER}"
        await fake.wait_for(lambda c: c.method == "sendMessage" and f"#{created['id']}" in c.text
                            and "Epoch 0/30" in c.text, since=mark)  # followed like a wizard run
        mark = len(fake.calls)
        await fake.press(user, proposal, proposal.button("Confirm"))  # a second press does nothing
        await fake.wait_for(lambda c: c.method == "answerCallbackQuery" and "no longer waiting" in c.text, since=mark)
        assert (await http.get("/sessions")).json()["total"] == 1
        assert (await http.post(f"/sessions/{created['id']}/stop")).status_code == 200  # the server ends it on exit


async def test_a_slow_failing_or_garbled_llm_gets_a_clear_message_and_the_chat_goes_on(
    live_server: LiveServer, fake_telegram: FakeTelegram, fake_llm: FakeLlm, tmp_path: Path
) -> None:
    fake, llm, user = fake_telegram, fake_llm, FakeTelegram.user(ALLOWED_USER, "en")
    settings = llm_settings(live_server, fake, llm, tmp_path, llm_timeout_s=1.0, llm_max_rounds=2)
    async with running_bot(settings, fake):
        llm.script(Reply(text="too late", delay_s=20))
        started = time.monotonic()
        await ask(fake, user, "/ask hello?", "did not answer within 1 s")
        assert time.monotonic() - started < 8
        for garbage in (Reply(raw=b"<html>502 Bad Gateway</html>", content_type="text/html"),
                        Reply(raw=b'data: {"unexpected": true}\n\n'),
                        Reply(raw=b"data: {not json\n\n"),
                        Reply(raw=b'{"choices": "nope"}', content_type="application/json"),
                        Reply(raw=b"data: [DONE]\n\n")):
            llm.script(garbage)
            await ask(fake, user, "/ask hello?", "not in the OpenAI chat format")
        llm.script(Reply(status=500, raw=b"model not found", content_type="text/plain"))
        _, final = await ask(fake, user, "/ask hello?", "No answer from the language model server")
        assert "HTTP 500" in final.text
        llm.script(Reply(tool_calls=[("get_queue", {})]), Reply(tool_calls=[("get_queue", {})]))
        await ask(fake, user, "/ask loop", "kept looking things up")
        llm.script(Reply(text="Fine now."))
        await ask(fake, user, "/ask hello?", "Fine now.")
        assert llm.unused == 0

        asked = len(llm.requests)
        stranger = FakeTelegram.user(STRANGER, "en")
        await fake.send_text(stranger, "/ask what's training now?")
        await fake.wait_for(lambda c: c.chat_id == STRANGER and "invited users only" in c.text)
        assert len(llm.requests) == asked


async def test_without_llm_base_url_the_button_explains_how_to_point_the_bot_at_a_model(
    live_server: LiveServer, fake_telegram: FakeTelegram, tmp_path: Path
) -> None:
    fake = fake_telegram
    async with running_bot(bot_settings(live_server.url, fake.base_url, tmp_path / "bot"), fake):
        await fake.send_text(FakeTelegram.user(ALLOWED_USER, "en"), "💬 Chat with AI")
        told = await fake.wait_for(lambda c: c.method == "sendMessage" and "LLM_BASE_URL" in c.text)
        assert "ollama pull" in told.text and "llama-server" in told.text and "LLM_MODEL" in told.text
        mark = len(fake.calls)
        await fake.send_text(FakeTelegram.user(ALLOWED_USER, "ru"), "💬 Чат с ИИ")
        told = await fake.wait_for(lambda c: c.method == "sendMessage" and "LLM_BASE_URL" in c.text, since=mark)
        assert "языковая модель" in told.text
