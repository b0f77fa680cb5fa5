"""A client of an OpenAI-compatible `POST {base}/chat/completions` (Ollama, llama.cpp's server, vLLM, LM Studio):
one streamed answer (server-sent events) at a time, parsed into the bot's own models, with a hard time limit."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

logger = logging.getLogger(__name__)

Message = dict[str, Any]
OnText = Callable[[str], Awaitable[None]]
SSE_FIELDS = ("event:", "id:", "retry:")
_DONE = object()  # `data: [DONE]`


class LlmError(Exception):
    """The language model gave no usable answer."""


class LlmUnreachable(LlmError):
    """No connection, or the server answered with an error status or an error object."""


class LlmTimeout(LlmError):
    """No complete answer within the time limit."""


class LlmGarbage(LlmError):
    """The answer is not OpenAI's chat-completions format (not JSON, wrong shape, or empty)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class FunctionPart(_Model):
    name: str | None = None
    arguments: str | dict[str, Any] | None = None  # a JSON string; a few servers send the object itself

    def arguments_text(self) -> str:
        return json.dumps(self.arguments) if isinstance(self.arguments, dict) else self.arguments or ""


class ToolCallPart(_Model):
    index: int = 0
    id: str | None = None
    function: FunctionPart = Field(default_factory=FunctionPart)


class Delta(_Model):
    content: str | None = None
    tool_calls: list[ToolCallPart] | None = None


class ChunkChoice(_Model):
    delta: Delta = Field(default_factory=Delta)


class Chunk(_Model):
    """One `data:` event of a streamed answer."""

    choices: list[ChunkChoice]


class CompletionChoice(_Model):
    message: Delta


class Completion(_Model):
    """A whole answer: what a server that ignores `stream: true` sends."""

    choices: list[CompletionChoice] = Field(min_length=1)


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str = ""


@dataclass
class Answer:
    """What the model said this round: text, tool calls, or both."""

    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)

    def as_message(self) -> Message:
        """The assistant message to send back with the next request."""
        message: Message = {"role": "assistant", "content": self.text}
        if self.tool_calls:
            message["tool_calls"] = [{"id": call.id, "type": "function",
                                      "function": {"name": call.name, "arguments": call.arguments or "{}"}}
                                     for call in self.tool_calls]
        return message


class _Assembler:
    """Builds an Answer from stream deltas: text pieces, and tool calls whose arguments arrive in fragments."""

    def __init__(self) -> None:
        self._text: list[str] = []
        self._calls: dict[int, ToolCall] = {}
        self._slots: dict[int, int] = {}  # the server's index -> ours

    def _call(self, part: ToolCallPart) -> ToolCall:
        """The call this part continues; a new id at a used index is a new call (servers that omit the index)."""
        slot = self._slots.get(part.index, part.index)
        call = self._calls.get(slot)
        if call is not None and part.id and call.id not in (part.id, f"call_{slot}"):
            slot = self._slots[part.index] = max(self._calls) + 1
            call = None
        if call is None:
            call = self._calls[slot] = ToolCall(id=part.id or f"call_{slot}", name="")
        return call

    def add(self, delta: Delta) -> str:
        for part in delta.tool_calls or ():
            call = self._call(part)
            call.id = part.id or call.id
            call.name = part.function.name or call.name
            call.arguments += part.function.arguments_text()
        if delta.content:
            self._text.append(delta.content)
        return delta.content or ""

    def answer(self) -> Answer:
        calls = [self._calls[index] for index in sorted(self._calls)]
        answer = Answer("".join(self._text).strip(), calls)
        if not answer.text and not calls:
            raise LlmGarbage("the answer has neither text nor tool calls")
        if any(not call.name for call in calls):
            raise LlmGarbage("a tool call without a name")
        return answer


def _payload(raw: str | bytes) -> Any:
    try:
        payload = json.loads(raw)
    except ValueError as exc:
        raise LlmGarbage(f"not JSON: {str(raw)[:80]!r}") from exc
    if isinstance(payload, dict) and payload.get("error"):
        raise LlmUnreachable(f"the LLM server reported an error: {str(payload['error'])[:200]}")
    return payload


def parse_event_lines(lines: Sequence[str]) -> Answer:
    """A whole SSE body as lines (for tests and for servers that answer at once)."""
    assembler = _Assembler()
    for line in lines:
        chunk = _chunk_of(line)
        if chunk is _DONE:
            break
        if isinstance(chunk, Chunk):
            for choice in chunk.choices:
                assembler.add(choice.delta)
    return assembler.answer()


def _chunk_of(line: str) -> Chunk | object | None:
    """The Chunk in a `data:` line; _DONE at `data: [DONE]`; None for blank lines, comments and other SSE fields."""
    line = line.strip()
    if not line or line.startswith(":") or line.startswith(SSE_FIELDS):
        return None
    if not line.startswith("data:"):
        raise LlmGarbage(f"not a server-sent event: {line[:80]!r}")
    data = line.removeprefix("data:").strip()
    if data == "[DONE]":
        return _DONE
    try:
        return Chunk.model_validate(_payload(data))
    except ValidationError as exc:
        raise LlmGarbage(f"not a chat-completions chunk: {data[:80]!r}") from exc


class LlmClient:
    """One httpx.AsyncClient to the LLM server; `complete()` streams one answer, calling on_text per text piece."""

    def __init__(self, http: httpx.AsyncClient, model: str, *, timeout_s: float) -> None:
        self._http, self._model, self.timeout_s = http, model, timeout_s

    @classmethod
    def create(cls, base_url: str, model: str, api_key: str | None, *, timeout_s: float) -> LlmClient:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        http = httpx.AsyncClient(base_url=base_url.rstrip("/") + "/", headers=headers,
                                 timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 10.0)))
        return cls(http, model, timeout_s=timeout_s)

    async def close(self) -> None:
        await self._http.aclose()

    async def complete(self, messages: list[Message], tools: list[Message], on_text: OnText) -> Answer:
        """The model's next answer; LlmTimeout past timeout_s in all, LlmUnreachable, LlmGarbage."""
        body = {"model": self._model, "messages": messages, "tools": tools, "stream": True}
        try:
            async with asyncio.timeout(self.timeout_s):
                return await self._post(body, on_text)
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise LlmTimeout(f"no answer within {self.timeout_s:g} s") from exc
        except httpx.HTTPError as exc:
            raise LlmUnreachable(f"{type(exc).__name__}: {exc}") from exc

    async def _post(self, body: Message, on_text: OnText) -> Answer:
        async with self._http.stream("POST", "chat/completions", json=body) as response:
            if response.status_code >= 400:
                text = (await response.aread()).decode(errors="replace")
                raise LlmUnreachable(f"HTTP {response.status_code}: {text[:200]}")
            if response.headers.get("content-type", "").startswith("application/json"):
                return self._whole(await response.aread())
            return await self._events(response, on_text)

    @staticmethod
    def _whole(raw: bytes) -> Answer:
        try:
            completion = Completion.model_validate(_payload(raw))
        except ValidationError as exc:
            raise LlmGarbage(f"not a chat completion: {raw[:80]!r}") from exc
        assembler = _Assembler()
        message = completion.choices[0].message
        tool_calls = [part.model_copy(update={"index": i}) for i, part in enumerate(message.tool_calls or ())]
        assembler.add(Delta(content=message.content, tool_calls=tool_calls))
        return assembler.answer()

    @staticmethod
    async def _events(response: httpx.Response, on_text: OnText) -> Answer:
        assembler = _Assembler()
        async for line in response.aiter_lines():
            chunk = _chunk_of(line)
            if chunk is _DONE:
                break
            if isinstance(chunk, Chunk):
                for choice in chunk.choices:
                    if text := assembler.add(choice.delta):
                        await on_text(text)
        return assembler.answer()
