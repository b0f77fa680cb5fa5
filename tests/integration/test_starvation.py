"""Interactive requests never wait behind bulk work (issue 20, finding 2). asyncio's default thread pool is what
uploads, extractions, sample views, recognitions and checkpoint loads all shared; here it is kept full (as six
parallel uploads kept it) and the interactive requests must still be answered at once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest


@pytest.fixture
async def default_pool_full() -> AsyncIterator[None]:
    loop, release = asyncio.get_running_loop(), threading.Event()
    blockers = [loop.run_in_executor(None, release.wait, 60) for _ in range(64)]
    try:
        yield
    finally:
        release.set()
        await asyncio.gather(*blockers)


async def test_sample_views_and_model_uploads_do_not_wait_behind_the_default_pool(
    client: httpx.AsyncClient, trained_weights: Path, default_pool_full: None
) -> None:
    sample = await asyncio.wait_for(client.get("/datasets/1/samples/0"), 10)
    assert sample.status_code == 200 and sample.content[:2] == b"\xff\xd8"
    upload = await asyncio.wait_for(client.post("/models", files={"file": ("m.pt", trained_weights.read_bytes())}), 60)
    assert upload.status_code == 201, upload.text
    recognition = await asyncio.wait_for(client.post(
        "/recognitions", files={"images": ("a.jpg", sample.content)}, data={"model": upload.json()["id"]}), 60)
    assert recognition.status_code == 201, recognition.text
    deleted = await asyncio.wait_for(client.delete(f"/recognitions/{recognition.json()['id']}"), 10)
    assert deleted.status_code == 204
