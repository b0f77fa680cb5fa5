"""Issue 20, finding 6: a training request cannot eat the machine (batch x imgsz^2 bound; a memory cap per run)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.helpers import LiveServer, make_settings
from tests.training_helpers import TINY, wait_status


async def test_an_oversized_batch_is_refused_before_it_runs(client: httpx.AsyncClient) -> None:
    response = await client.post("/sessions", json={**TINY, "epochs": 1, "imgsz": 2048, "batch": 1024})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"]["fields"][0]["field"] == "body.batch"
    assert (await client.get("/sessions")).json()["total"] == 0


@pytest.mark.training
async def test_a_run_over_its_memory_cap_fails_with_that_reason_and_the_server_lives_on(tmp_path: Path) -> None:
    with LiveServer(make_settings(tmp_path / "data", training_memory_mb=40)) as server:
        async with server.client() as http:
            session = (await http.post("/sessions", json={**TINY, "epochs": 1, "device": "cpu"})).json()
            failed = await wait_status(http, session["id"], "failed", "completed", timeout=180)
            assert failed["status"] == "failed" and "memory" in failed["error"].lower(), failed["error"]
            assert (await http.get("/health")).status_code == 200
