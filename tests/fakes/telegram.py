"""A fake Telegram Bot API server on 127.0.0.1 (aiohttp) for tests: it serves the methods the bot calls,
records every call, hands out updates the test queues, and serves files for getFile downloads."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {"id": 999000, "is_bot": True, "first_name": "TrainBot", "username": "train_test_bot"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    at: float = field(default_factory=time.time)  # when the request arrived (wall clock, for latency)

    def markup(self) -> dict[str, Any]:
        raw = self.params.get("reply_markup")
        return json.loads(raw) if isinstance(raw, str) else (raw or {})

    def buttons(self) -> list[dict[str, Any]]:
        return [button for row in self.markup().get("inline_keyboard", []) for button in row]

    def button(self, text_part: str) -> str:
        """callback_data of the inline button whose text contains `text_part`."""
        for button in self.buttons():
            if text_part in button["text"]:
                return str(button["callback_data"])
        raise AssertionError(f"no button with {text_part!r} in {[b['text'] for b in self.buttons()]}")

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def chat_id(self) -> int:
        return int(self.params.get("chat_id", 0))


class FakeTelegram:
    """Start with `await fake.start()`; point the bot at `fake.base_url`."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._updates: list[dict[str, Any]] = []
        self._files: dict[str, bytes] = {}
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._changed = asyncio.Condition()
        self.failures: dict[str, list[dict[str, Any]]] = {}  # method -> error bodies to answer first
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> FakeTelegram:
        app = web.Application(client_max_size=100 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.*}", self._handle_file)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    # --- what a test does as a Telegram user
    @staticmethod
    def user(user_id: int, lang: str = "en", name: str = "Ann") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": name, "language_code": lang}

    def add_file(self, data: bytes) -> str:
        file_id = f"file{len(self._files) + 1}"
        self._files[file_id] = data
        return file_id

    async def send_text(self, user: dict[str, Any], text: str) -> dict[str, Any]:
        fields: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return await self._push_message(user, **fields)

    async def send_photo(self, user: dict[str, Any], data: bytes, *, media_group_id: str | None = None) -> dict[str, Any]:
        file_id = self.add_file(data)
        photo = [{"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 128, "height": 128,
                  "file_size": len(data)}]
        extra = {"media_group_id": media_group_id} if media_group_id else {}
        return await self._push_message(user, photo=photo, **extra)

    async def send_document(self, user: dict[str, Any], data: bytes, *, filename: str, mime: str,
                            declared_size: int | None = None) -> dict[str, Any]:
        file_id = self.add_file(data)
        document = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": filename, "mime_type": mime,
                    "file_size": declared_size if declared_size is not None else len(data)}
        return await self._push_message(user, document=document)

    async def press(self, user: dict[str, Any], message_call: Call, callback_data: str) -> None:
        """Press an inline button of the message that `message_call` sent or edited."""
        message_id = int(message_call.params.get("message_id") or message_call.params["_message_id"])
        message = {"message_id": message_id, "date": int(time.time()), "chat": self._chat(message_call.chat_id),
                   "from": BOT_USER, "text": message_call.text}
        await self._push({"callback_query": {"id": str(next(self._update_ids) * 7), "from": user, "message": message,
                                             "chat_instance": "ci", "data": callback_data}})

    async def wait_for(self, predicate: Any, *, since: int = 0, timeout: float = 30.0) -> Call:
        """The first call from index `since` on that satisfies predicate(call); waits for it (bounded)."""
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                for call in self.calls[since:]:
                    if predicate(call):
                        return call
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(c.method, c.text[:80]) for c in self.calls[since:]]
                    raise AssertionError(f"no matching Bot API call within {timeout}s; calls: {seen}")
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    pass

    def sent(self, method: str, *, since: int = 0, chat_id: int | None = None) -> list[Call]:
        return [c for c in self.calls[since:] if c.method == method and (chat_id is None or c.chat_id == chat_id)]

    # --- the server side
    @staticmethod
    def _chat(chat_id: int) -> dict[str, Any]:
        return {"id": chat_id, "type": "private"}

    async def _push_message(self, user: dict[str, Any], **fields: Any) -> dict[str, Any]:
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": self._chat(user["id"]),
                   "from": user, **fields}
        await self._push({"message": message})
        return message

    async def _push(self, update: dict[str, Any]) -> None:
        async with self._changed:
            self._updates.append({"update_id": next(self._update_ids), **update})
            self._changed.notify_all()

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, bytes] = {}
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.can_read_body:
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    files[key] = value.file.read()
                else:
                    params[key] = value
        return params, files

    async def _handle_method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params, files = await self._read_params(request)
        if method != "getUpdates":
            failures = self.failures.get(method)
            if failures:
                body = failures.pop(0)
                return web.json_response(body, status=body.get("error_code", 400))
        handler = getattr(self, f"_{method}", None)
        result = await handler(params, files) if handler else True
        if method != "getUpdates":
            async with self._changed:
                call = Call(method, params, files)
                if isinstance(result, dict) and "message_id" in result:
                    call.params.setdefault("_message_id", result["message_id"])
                self.calls.append(call)
                self._changed.notify_all()
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.Response:
        file_id = request.match_info["path"].rsplit("/", 1)[-1].split(".")[0]
        if file_id not in self._files:
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        return web.Response(body=self._files[file_id])

    async def _getUpdates(self, params: dict[str, Any], files: dict[str, bytes]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 1.0)
        async with self._changed:
            while True:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                if self._updates or time.monotonic() >= deadline:
                    return list(self._updates)
                try:
                    await asyncio.wait_for(self._changed.wait(), max(deadline - time.monotonic(), 0.01))
                except TimeoutError:
                    pass

    async def _getMe(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return BOT_USER

    def _message(self, params: dict[str, Any], **fields: Any) -> dict[str, Any]:
        return {"message_id": next(self._message_ids), "date": int(time.time()),
                "chat": self._chat(int(params["chat_id"])), "from": BOT_USER, **fields}

    async def _sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return self._message(params, text=params["text"])

    async def _editMessageText(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        return {**self._message(params, text=params["text"]), "message_id": int(params["message_id"])}

    async def _sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        data = self._attachment(params["photo"], files)
        file_id = self.add_file(data)
        photo = [{"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 1, "height": 1, "file_size": len(data)}]
        return self._message(params, photo=photo, caption=params.get("caption", ""))

    async def _sendDocument(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        data = self._attachment(params["document"], files)
        file_id = self.add_file(data)
        document = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data)}
        return self._message(params, document=document)

    async def _sendMediaGroup(self, params: dict[str, Any], files: dict[str, bytes]) -> list[dict[str, Any]]:
        media = json.loads(params["media"])
        messages = []
        for item in media:
            file_id = self.add_file(self._attachment(item["media"], files))
            photo = [{"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 1, "height": 1}]
            messages.append(self._message(params, photo=photo, media_group_id="g1"))
        return messages

    async def _getFile(self, params: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
        file_id = params["file_id"]
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(self._files.get(file_id, b"")),
                "file_path": f"documents/{file_id}.bin"}

    @staticmethod
    def _attachment(value: str, files: dict[str, bytes]) -> bytes:
        if value.startswith("attach://"):
            return files[value.removeprefix("attach://")]
        raise AssertionError(f"expected an upload, got {value!r}")
