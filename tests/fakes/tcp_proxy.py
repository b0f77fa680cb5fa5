"""A TCP pass-through on 127.0.0.1 that a test can cut and restore: the network between the bot and the server
failing while both keep running.

- `cut("abrupt")`: every connection is reset and new ones are refused (the server's host went away).
- `cut("silent")`: bytes vanish and new connections are accepted but never answered (a dead NAT, Wi-Fi gone):
  only timeouts and pings can tell.
- `restore()`: new connections go through again on the same port; the ones that went through the cut are dead,
  as after a real outage.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Literal


class TcpProxy:
    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self._server: asyncio.Server | None = None
        self._silent = False
        self._writers: set[asyncio.StreamWriter] = set()  # both ends of every connection, to cut them

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> TcpProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def cut(self, how: Literal["abrupt", "silent"]) -> None:
        if how == "silent":
            self._silent = True
            return
        await self._stop_listening()
        self._drop_all()

    async def restore(self) -> None:
        self._drop_all()
        self._silent = False
        if self._server is None:
            await self.start()

    async def close(self) -> None:
        await self._stop_listening()
        self._drop_all()

    async def _stop_listening(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def _drop_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        if self._silent:
            return  # accepted, never answered: the writer stays referenced until restore() drops it
        try:
            upstream_reader, upstream = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers.add(upstream)
        await asyncio.gather(self._pipe(reader, upstream), self._pipe(upstream_reader, writer))

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                if self._silent:
                    continue  # swallowed by the outage
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            with contextlib.suppress(Exception):
                sink.close()
            self._writers.discard(sink)
