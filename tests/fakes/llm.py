"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1 (aiohttp) for tests: each request gets the
next scripted Reply (or what a step function makes of the request), streamed as server-sent events the way
OpenAI, Ollama and llama.cpp's server send them (tool-call arguments in fragments); every request is recorded."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

Body = dict[str, Any]


@dataclass
class Reply:
    text: str = ""
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    raw: bytes | None = None  # sent as it is, instead of a chat completion (garbage)
    content_type: str = "text/event-stream"
    status: int = 200
    delay_s: float = 0.0  # before the first byte: a slow model (cut short when the fake closes)
    chunk_delay_s: float = 0.01


Step = Reply | Callable[[Body], Reply]


@dataclass
class Request:
    body: Body
    headers: dict[str, str]  # names in lower case
    raw: bytes

    @property
    def tool_names(self) -> list[str]:
        return [tool["function"]["name"] for tool in self.body.get("tools", [])]


def last_tool_result(body: Body) -> Any:
    """The JSON of the last tool message the model was sent."""
    return json.loads([message for message in body["messages"] if message["role"] == "tool"][-1]["content"])


def _event(delta: dict[str, Any], finish: str | None = None) -> bytes:
    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "fake",
             "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(chunk)}\n\n".encode()


def _events(reply: Reply) -> list[bytes]:
    events = [_event({"role": "assistant", "content": ""})]
    words = reply.text.split(" ")
    events += [_event({"content": word if i == 0 else " " + word}) for i, word in enumerate(words) if reply.text]
    for index, (name, arguments) in enumerate(reply.tool_calls):
        text = json.dumps(arguments)
        half = len(text) // 2
        events.append(_event({"tool_calls": [{"index": index, "id": f"call_{index}_x", "type": "function",
                                              "function": {"name": name, "arguments": text[:half]}}]}))
        events.append(_event({"tool_calls": [{"index": index, "function": {"arguments": text[half:]}}]}))
    events.append(_event({}, "tool_calls" if reply.tool_calls else "stop"))
    return [*events, b"data: [DONE]\n\n"]


class FakeLlm:
    """`await FakeLlm().start()`; `script(...)` the answers; point LLM_BASE_URL at `base_url`."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._steps: list[Step] = []
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *steps: Step) -> None:
        self._steps.extend(steps)

    @property
    def unused(self) -> int:
        return len(self._steps)

    async def start(self) -> FakeLlm:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._complete)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        self._release.set()
        if self._runner:
            await self._runner.cleanup()

    async def _complete(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        body = json.loads(raw)
        self.requests.append(Request(body, {key.lower(): value for key, value in request.headers.items()}, raw))
        if not self._steps:
            return web.json_response({"error": {"message": "the test scripted no more answers"}}, status=500)
        step = self._steps.pop(0)
        reply = step(body) if callable(step) else step
        if reply.delay_s:
            try:
                await asyncio.wait_for(self._release.wait(), reply.delay_s)
            except TimeoutError:
                pass
        if reply.raw is not None or reply.status != 200:
            return web.Response(body=reply.raw or b"", status=reply.status, content_type=reply.content_type)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        for event in _events(reply):
            await response.write(event)
            await asyncio.sleep(reply.chunk_delay_s)
        await response.write_eof()
        return response
