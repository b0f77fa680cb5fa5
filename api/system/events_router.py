"""WS /events: live events (system samples, sessions, logs, recognitions, streams) as JSON messages."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Annotated

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect, status

from api.auth.gate import key_from_headers
from api.auth.schemas import ApiKeyRead
from api.container import Services
from api.core.errors import AppError

logger = logging.getLogger(__name__)

router = APIRouter(tags=["events"])

FIRST_MESSAGE_TIMEOUT_S = 10.0


async def _first_message_key(websocket: WebSocket) -> str | None:
    """Browsers cannot set headers on a WebSocket: they send {"api_key": "..."} as the first message instead
    of a query string, which would end up in access logs."""
    try:
        async with asyncio.timeout(FIRST_MESSAGE_TIMEOUT_S):
            message = json.loads(await websocket.receive_text())
    except (TimeoutError, ValueError, WebSocketDisconnect, RuntimeError):
        return None
    return message.get("api_key") if isinstance(message, dict) and isinstance(message.get("api_key"), str) else None


async def _authenticate(websocket: WebSocket, services: Services, query_key: str | None) -> ApiKeyRead | None:
    """Header or query key: checked before accepting. Neither: accept, then the first message must carry it."""
    client = websocket.client.host if websocket.client else "unknown"
    plain = key_from_headers(websocket.headers) or query_key
    if plain is None:
        await websocket.accept()
        plain = await _first_message_key(websocket)
    try:
        return services.auth.authenticate(plain, client=client, method="WS", path=websocket.url.path)
    except AppError as exc:
        await websocket.close(code=4429 if exc.status_code == 429 else 4401, reason=exc.code)
        return None


@router.websocket("/events")
async def events(
    websocket: WebSocket,
    api_key: Annotated[str | None, Query(description="Deprecated: the key in the URL reaches access logs. Send "
                                                      "X-API-Key, or {\"api_key\": ...} as the first message.")] = None,
    topics: Annotated[str | None, Query(description=(
        "Comma-separated topics (system, session, log, recognition, stream) or event types (stream.status, "
        "stream.tracks, stream.crossing)."))] = None,
) -> None:
    """Stream events; close code 4401 = bad or revoked key (also when it is revoked mid-stream), 4429 = locked out."""
    services: Services = websocket.app.state.services
    key = await _authenticate(websocket, services, api_key)
    if key is None:
        return
    if websocket.client_state.name != "CONNECTED":
        await websocket.accept()
    wanted = [t.strip() for t in topics.split(",") if t.strip()] if topics else None
    revoked = asyncio.create_task(services.auth.revoked(key.id).wait())
    async with services.bus.subscribe(wanted) as subscription:
        receiver = asyncio.create_task(_drain_client(websocket))
        try:
            while not receiver.done() and not revoked.done():
                getter = asyncio.create_task(subscription.get())
                done, _ = await asyncio.wait({getter, receiver, revoked}, return_when=asyncio.FIRST_COMPLETED)
                if getter not in done:
                    getter.cancel()
                    break
                await websocket.send_json(getter.result().to_json())
        except WebSocketDisconnect:
            pass
        finally:
            receiver.cancel()
            revoked.cancel()
    if websocket.client_state.name == "CONNECTED":
        closing = (4401, "revoked_key") if not services.auth.is_active(key.id) else (status.WS_1000_NORMAL_CLOSURE, "")
        await websocket.close(code=closing[0], reason=closing[1])


async def _drain_client(websocket: WebSocket) -> None:
    """Reads (and ignores) what the client sends, so a disconnect is noticed at once."""
    try:
        while True:
            await websocket.receive_text()
    except (WebSocketDisconnect, RuntimeError):
        return
