"""Helpers for tests that run real (tiny) training through the API."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

TINY = {"task": "detect", "model": "yolov8n.yaml", "dataset": 1, "imgsz": 64, "batch": 16}


async def create_session(http: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await http.post("/sessions", json={**TINY, "epochs": 1, **overrides})
    assert response.status_code == 201, response.text
    return response.json()


async def wait_for(
    http: httpx.AsyncClient, session_id: int, predicate: Any, *, timeout: float = 120, what: str = ""
) -> dict[str, Any]:
    """Poll GET /sessions/{id} until predicate(session) holds (bounded)."""
    deadline = time.monotonic() + timeout
    session: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = await http.get(f"/sessions/{session_id}")
        assert response.status_code == 200, response.text
        session = response.json()
        if predicate(session):
            return session
        await asyncio.sleep(0.25)
    raise AssertionError(f"session {session_id} never reached {what}: {session}")


async def wait_status(http: httpx.AsyncClient, session_id: int, *statuses: str, timeout: float = 120) -> dict[str, Any]:
    return await wait_for(http, session_id, lambda s: s["status"] in statuses, timeout=timeout,
                          what=f"status {statuses}")
