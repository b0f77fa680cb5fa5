"""Who may touch whose session (owner or admin changes, every role reads) and the per-key cap on queued sessions."""

from __future__ import annotations

import asyncio

import httpx

from tests.helpers import LiveServer, assert_error, make_settings
from tests.training_helpers import TINY


async def keys(admin: httpx.AsyncClient, *roles: str) -> list[str]:
    return [(await admin.post("/keys", json={"name": f"{role}-{i}", "role": role})).json()["key"]
            for i, role in enumerate(roles)]


async def test_only_the_owner_or_an_admin_changes_a_session_everyone_reads_it(live_server: LiveServer) -> None:
    async with live_server.client() as admin:
        alice, bob, viewer = await keys(admin, "operator", "operator", "viewer")
        await admin.post("/sessions", json={**TINY, "epochs": 300})  # takes the only slot: the rest stay queued
    async with live_server.client(alice) as as_alice, live_server.client(bob) as as_bob, \
            live_server.client(viewer) as as_viewer, live_server.client() as admin:
        mine = (await as_alice.post("/sessions", json={**TINY, "epochs": 1})).json()
        path = f"/sessions/{mine['id']}"
        for response in (await as_bob.patch(path, json={"priority": 9}), await as_bob.post(f"{path}/stop")):
            assert_error(response, 403, "not_owner")
        assert (await as_bob.get(path)).json()["status"] == "queued"  # reading is the role's business alone
        assert (await as_viewer.get(path)).json()["priority"] == 0
        assert (await as_alice.patch(path, json={"priority": 3})).json()["priority"] == 3
        assert (await as_alice.post(f"{path}/stop")).json()["status"] == "cancelled"
        assert_error(await as_bob.post(f"{path}/resume"), 403, "not_owner")
        theirs = (await as_alice.post("/sessions", json={**TINY, "epochs": 1})).json()
        assert (await admin.post(f"/sessions/{theirs['id']}/stop")).json()["status"] == "cancelled"  # admins may


async def test_a_key_cannot_queue_more_than_its_cap_even_in_parallel(tmp_path) -> None:  # noqa: ANN001
    with LiveServer(make_settings(tmp_path / "data", max_queued_per_key=3)) as server:
        async with server.client() as admin:
            first, second = await keys(admin, "operator", "operator")
            await admin.post("/sessions", json={**TINY, "epochs": 300})  # running, not queued: not counted
        async with server.client(first) as one, server.client(second) as two:
            answers = await asyncio.gather(*(one.post("/sessions", json={**TINY, "epochs": 1}) for _ in range(8)))
            assert sorted(a.status_code for a in answers) == [201] * 3 + [429] * 5
            refused = next(a for a in answers if a.status_code == 429)
            assert assert_error(refused, 429, "queue_full")["max_queued_per_key"] == 3
            assert refused.headers["Retry-After"] == "60"
            assert (await two.post("/sessions", json={**TINY, "epochs": 1})).status_code == 201  # per key
            queued = (await one.get("/queue")).json()["queued"]
            assert len(queued) == 4
            await one.post(f"/sessions/{queued[0]['id']}/stop")  # a cancelled one frees a place
            assert (await one.post("/sessions", json={**TINY, "epochs": 1})).status_code == 201
