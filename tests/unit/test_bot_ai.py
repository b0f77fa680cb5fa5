"""Chat with AI's parts without a network: the stream parser, tools, memory, the question loop and the texts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from telegram_bot.ai.assistant import Assistant, TooManyRounds
from telegram_bot.ai.llm import Answer, LlmGarbage, LlmTimeout, LlmUnreachable, ToolCall, parse_event_lines
from telegram_bot.ai.memory import ChatMemory, Pending, PendingActions, note_outcome
from telegram_bot.ai.streaming import fit
from telegram_bot.ai.tools import StartSession, StopSession, Toolbox, to_json
from telegram_bot.ai.views import describe, failure_text
from telegram_bot.api_client import ApiNotFound
from telegram_bot.schemas import DatasetRead, SessionList, SessionProgress, SessionRead


def data(delta: dict[str, Any]) -> str:
    return "data: " + json.dumps({"choices": [{"index": 0, "delta": delta}]})


def test_stream_parts_make_one_answer_with_text_and_fragmented_tool_calls() -> None:
    lines = [": keep-alive", "event: message", data({"role": "assistant", "content": "Let me "}), "",
             data({"content": "look."}),
             data({"tool_calls": [{"index": 0, "function": {"name": "get_session", "arguments": '{"sess'}}]}),
             data({"tool_calls": [{"index": 0, "function": {"arguments": 'ion_id": 3}'}}]}),
             data({"tool_calls": [{"index": 1, "id": "b", "function": {"name": "get_queue", "arguments": {}}}]}),
             "data: [DONE]", "data: ignored after the end"]
    answer = parse_event_lines(lines)
    assert answer.text == "Let me look."
    assert answer.tool_calls == [ToolCall("call_0", "get_session", '{"session_id": 3}'), ToolCall("b", "get_queue", "{}")]
    message = answer.as_message()
    assert message["tool_calls"][0]["function"] == {"name": "get_session", "arguments": '{"session_id": 3}'}


@pytest.mark.parametrize("lines", [["<html>oops</html>"], ["data: {not json"], [data({"content": ""}), "data: [DONE]"],
                                   ['data: {"object": "chat.completion.chunk"}'],
                                   [data({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]})]])
def test_what_is_not_a_chat_completion_stream_is_garbage(lines: list[str]) -> None:
    with pytest.raises(LlmGarbage):
        parse_event_lines(lines)


def test_calls_without_an_index_are_told_apart_by_their_ids() -> None:
    calls = [{"id": name, "function": {"name": name, "arguments": "{}"}} for name in ("get_queue", "system_status")]
    answer = parse_event_lines([data({"tool_calls": [call]}) for call in calls])
    assert [call.name for call in answer.tool_calls] == ["get_queue", "system_status"]


def test_an_error_object_in_the_stream_means_the_server_failed() -> None:
    with pytest.raises(LlmUnreachable, match="model is loading"):
        parse_event_lines(['data: {"error": {"message": "model is loading"}}'])


def test_tool_results_are_trimmed_to_the_limit_with_a_note() -> None:
    assert to_json({"a": 1}, 100) == '{"a":1}'
    text = to_json({"lines": ["x" * 50] * 200}, 500)
    assert len(text) == 500 and text.endswith("more characters]")


def session(**fields: Any) -> SessionRead:
    values = {"id": 3, "name": "probe", "model": "yolov8n.yaml", "status": "running",
              "progress": SessionProgress(epoch=2, epochs=10, percent=20.0)}
    return SessionRead(**{**values, **fields})


class StubApi:
    """The few ApiClient methods the tests reach."""

    async def session(self, session_id: int) -> SessionRead:
        if session_id != 3:
            raise ApiNotFound(404, "not_found", f"session {session_id} not found")
        return session()

    async def sessions(self, *, limit: int, statuses: tuple[str, ...]) -> SessionList:
        return SessionList(items=[session()] * limit, total=limit)

    async def dataset(self, dataset_id: int) -> DatasetRead:
        return DatasetRead(id=dataset_id, name="shapes", task="detect", classes=["circle"], info={"images": {}})


def toolbox(limit: int = 4000) -> Toolbox:
    return Toolbox(StubApi(), limit=limit)  # type: ignore[arg-type]


async def test_read_tools_answer_json_and_every_failure_is_a_result_the_model_can_read() -> None:
    assert json.loads(await toolbox().run(ToolCall("1", "get_session", '{"session_id": 3}')))["name"] == "probe"
    metrics = json.loads(await toolbox().run(ToolCall("1", "get_metrics", '{"session_id": 3}')))
    assert set(metrics) == {"id", "name", "status", "progress", "latest_metrics", "best_metrics"}
    assert "404 not_found" in await toolbox().run(ToolCall("1", "get_session", '{"session_id": 9}'))
    assert "invalid arguments" in await toolbox().run(ToolCall("1", "get_session", '{"session_id": "x"}'))
    assert "invalid arguments" in await toolbox().run(ToolCall("1", "get_session", "not json"))
    assert "unknown tool" in await toolbox().run(ToolCall("1", "delete_everything", "{}"))
    assert len(await toolbox(300).run(ToolCall("1", "list_sessions", '{"limit": 20}'))) == 300


@pytest.mark.parametrize(("model", "expected"), [("yolo11n", "yolo11n.yaml"), ("yolo11n-cls", "yolo11n-cls.yaml"),
                                                 ("yolov8n.yaml", "yolov8n.yaml")])
async def test_a_start_is_proposed_with_what_the_server_will_get(model: str, expected: str) -> None:
    call = ToolCall("1", "start_session", json.dumps({"dataset": 1, "model": model, "epochs": 30}))
    result, action = await toolbox().propose(call)
    assert "awaiting_confirmation" in result
    assert action == StartSession({"task": "detect", "model": expected, "dataset": 1, "epochs": 30}, "shapes", expected)
    result, action = await toolbox().propose(ToolCall("2", "stop_session", '{"session_id": 9}'))
    assert action is None and "404" in result


def test_memory_keeps_the_last_turns_of_the_most_recent_chats() -> None:
    memory = ChatMemory(2, max_chats=2)
    for n in range(3):
        memory.add(1, [{"role": "user", "content": f"q{n}"}])
    assert [m["content"] for m in memory.messages(1)] == ["q1", "q2"]
    memory.add(2, [{"role": "user", "content": "x"}])
    memory.add(3, [{"role": "user", "content": "y"}])
    assert memory.messages(1) == [] and memory.messages(3) != []
    memory.clear(3)
    assert memory.messages(3) == []


def test_a_pending_change_runs_once_and_only_from_its_chat() -> None:
    pending = PendingActions()
    turn = [{"role": "assistant", "content": "Proposed."}]
    pending_id = pending.add(Pending(5, StopSession(3, "probe", "running"), "shown", turn))
    assert pending.pop(pending_id, 6) is None
    assert pending.pop(pending_id, 5) is not None and pending.pop(pending_id, 5) is None
    note_outcome(turn, "confirmed")
    assert turn[-1]["content"] == "Proposed.\n[confirmed]"


class ScriptedLlm:
    timeout_s = 1.0

    def __init__(self, *answers: Answer) -> None:
        self.answers, self.sent = list(answers), []

    async def complete(self, messages: list[dict[str, Any]], tools: list[dict[str, Any]], on_text: Any) -> Answer:
        self.sent.append(messages)
        answer = self.answers.pop(0)
        await on_text(answer.text)
        return answer


class NoProgress:
    async def text(self, piece: str) -> None:
        pass

    async def tool(self, name: str) -> None:
        pass


async def test_the_loop_stops_at_the_round_limit_and_at_the_first_change() -> None:
    queue = Answer(tool_calls=[ToolCall("a", "get_session", '{"session_id": 3}')])
    assistant = Assistant(ScriptedLlm(queue, queue), max_rounds=2)  # type: ignore[arg-type]
    with pytest.raises(TooManyRounds):
        await assistant.ask(1, "loop", StubApi(), "en", NoProgress())  # type: ignore[arg-type]
    assert assistant.memory.messages(1) == []  # a failed question is not remembered

    two = Answer("Both.", [ToolCall("a", "stop_session", '{"session_id": 3}'), ToolCall("b", "stop_session", "{}")])
    llm = ScriptedLlm(two)
    assistant = Assistant(llm)  # type: ignore[arg-type]
    reply = await assistant.ask(1, "stop all", StubApi(), "ru", NoProgress())  # type: ignore[arg-type]
    assert reply.action == StopSession(3, "probe", "running") and reply.turn is not None
    assert "one change at a time" in reply.turn[3]["content"] and "Russian" in llm.sent[0][0]["content"]
    assert [m["role"] for m in assistant.memory.messages(1)] == ["user", "assistant", "tool", "tool", "assistant"]


def test_texts_escape_the_models_words_and_explain_each_failure() -> None:
    assert fit("<b>1 < 2</b>") == "&lt;b&gt;1 &lt; 2&lt;/b&gt;"
    assert len(fit("<" * 5000, 1000)) <= 1000
    start = StartSession({"task": "detect", "model": "yolo11n.yaml", "dataset": 1, "epochs": 30}, "<shapes>", "yolo11n.yaml")
    assert "&lt;shapes&gt;" in describe(start, "en") and "30 epochs" in describe(start, "en")
    assert "эпох: 30" in describe(start, "ru") and "#3" in describe(StopSession(3, "p", "running"), "ru")
    assert "60 s" in failure_text(LlmTimeout("x"), "en", 60.0)
    assert "60 с" in failure_text(LlmTimeout("x"), "ru", 60.0)
    assert "OpenAI" in failure_text(LlmGarbage("x"), "en", 1) and "x" in failure_text(LlmUnreachable("x"), "en", 1)
