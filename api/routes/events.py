"""WS /events: live events (system samples, sessions, logs, recognitions) as JSON messages."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect, status

from api.errors import AppError
from api.services.container import Services

logger = logging.getLogger(__name__)

router = APIRouter(tags=["events"])


def _key_from(websocket: WebSocket, api_key: str | None) -> str | None:
    header = websocket.headers.get("x-api-key")
    bearer = websocket.headers.get("authorization", "")
    if header:
        return header
    if bearer.lower().startswith("bearer "):
        return bearer[7:].strip()
    return api_key


@router.websocket("/events")
async def events(
    websocket: WebSocket,
    api_key: Annotated[str | None, Query(description="The API key, for clients that cannot set headers.")] = None,
    topics: Annotated[str | None, Query(description="Comma-separated topics: system, session, log, recognition.")] = None,
) -> None:
    """Stream events; close code 4401 = bad key, 4429 = locked out."""
    services: Services = websocket.app.state.services
    client = websocket.client.host if websocket.client else "unknown"
    try:
        services.auth.authenticate(_key_from(websocket, api_key), client=client, method="WS", path=websocket.url.path)
    except AppError as exc:
        await websocket.close(code=4429 if exc.status_code == 429 else 4401, reason=exc.code)
        return
    await websocket.accept()
    wanted = [t.strip() for t in topics.split(",") if t.strip()] if topics else None
    async with services.bus.subscribe(wanted) as subscription:
        receiver = asyncio.create_task(_drain_client(websocket))
        try:
            while not receiver.done():
                getter = asyncio.create_task(subscription.get())
                done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                await websocket.send_json(getter.result().to_json())
        except WebSocketDisconnect:
            pass
        finally:
            receiver.cancel()
    if websocket.client_state.name == "CONNECTED":
        await websocket.close(code=status.WS_1000_NORMAL_CLOSURE)


async def _drain_client(websocket: WebSocket) -> None:
    """Reads (and ignores) what the client sends, so a disconnect is noticed at once."""
    try:
        while True:
            await websocket.receive_text()
    except (WebSocketDisconnect, RuntimeError):
        return
