"""The audit log through a real server: every write of a known key is there once, with who, what, target and
outcome; refused requests are there as rejected; only admins read it; a change and its row commit together."""

from __future__ import annotations

import asyncio
import contextvars
import time
from pathlib import Path

import pytest

from api.audit.schemas import AuditQuery, PendingEntry
from api.audit.store import AuditStore
from api.audit.trail import AuditTrail
from api.core.database import Database
from tests.archives import detection_folder, zip_folder
from tests.helpers import LiveServer, assert_error
from tests.training_helpers import TINY


async def test_writes_are_audited_with_who_what_and_outcome(live_server: LiveServer, tmp_path: Path) -> None:
    started = time.time()
    async with live_server.client(**{"X-On-Behalf-Of": "tg:42"}) as admin:
        me = (await admin.get("/auth/me")).json()["key"]["id"]
        operator = (await admin.post("/keys", json={"name": "op", "role": "operator"})).json()
        viewer = (await admin.post("/keys", json={"name": "v", "role": "viewer"})).json()["key"]
        running = (await admin.post("/sessions", json={**TINY, "epochs": 300})).json()  # takes the only slot
        queued = (await admin.post("/sessions", json={**TINY, "epochs": 1})).json()
        assert (await admin.post(f"/sessions/{queued['id']}/stop")).status_code == 200
        assert (await admin.post("/sessions", json={**TINY, "epochs": 0})).status_code == 422
        dataset = (await admin.post("/datasets", files={"file": ("d.zip", zip_folder(detection_folder(tmp_path / "d")))}))
        assert dataset.status_code == 201
        assert (await admin.delete(f"/datasets/{dataset.json()['id']}")).status_code == 204
        async with live_server.client(operator["key"]) as as_operator:
            assert_error(await as_operator.patch(f"/sessions/{running['id']}", json={"priority": 5}), 403, "not_owner")
            assert_error(await as_operator.post("/keys", json={"name": "x", "role": "admin"}), 403, "forbidden")
        async with live_server.client("tk_not-a-key-at-all-000000000") as stranger:
            assert (await stranger.post("/sessions", json=TINY)).status_code == 401
        async with live_server.client(viewer) as as_viewer:
            assert_error(await as_viewer.get("/audit"), 403, "forbidden")
        await admin.post(f"/sessions/{running['id']}/stop")

        page = (await admin.get("/audit", params={"limit": 100})).json()
        rows = list(reversed(page["items"]))
        assert page["total"] == len(rows) == 11, [(r["action"], r["status"]) for r in rows]
        seen = [(r["action"], r["target"], r["outcome"], r["status"]) for r in rows]
        assert seen == [
            ("create_key", f"keys/{operator['id']}", "ok", 201),
            ("create_key", f"keys/{operator['id'] + 1}", "ok", 201),
            ("create_session", f"sessions/{running['id']}", "ok", 201),
            ("create_session", f"sessions/{queued['id']}", "ok", 201),
            ("stop_session", f"sessions/{queued['id']}", "ok", 200),
            ("create_session", "sessions", "rejected", 422),
            ("upload_dataset", f"datasets/{dataset.json()['id']}", "ok", 201),
            ("delete_dataset", f"datasets/{dataset.json()['id']}", "ok", 204),
            ("update_session", f"sessions/{running['id']}", "rejected", 403),
            ("create_key", "keys", "rejected", 403),
            ("stop_session", f"sessions/{running['id']}", "ok", 200),
        ]
        assert all(r["client"] == "127.0.0.1" and r["ts"] >= started for r in rows)
        assert {r["key_id"] for r in rows[:8]} == {me} and rows[8]["key_id"] == operator["id"]
        assert rows[0]["on_behalf_of"] == "tg:42" and rows[8]["on_behalf_of"] is None

        by_key = (await admin.get("/audit", params={"key_id": operator["id"]})).json()
        assert by_key["total"] == 2
        by_target = (await admin.get("/audit", params={"target": f"sessions/{running['id']}"})).json()
        assert [r["action"] for r in by_target["items"]] == ["stop_session", "update_session", "create_session"]
        by_action = (await admin.get("/audit", params={"action": "create_key", "limit": 1, "offset": 1})).json()
        assert by_action["total"] == 3 and by_action["items"][0]["target"] == f"keys/{operator['id'] + 1}"
        later = (await admin.get("/audit", params={"since": time.time() + 60})).json()
        assert later == {"items": [], "total": 0}


@pytest.fixture
async def trail(tmp_path: Path):  # noqa: ANN201
    db = await Database.open(tmp_path / "audit.db")
    await db.execute("CREATE TABLE things (id INTEGER PRIMARY KEY, name TEXT)")
    yield db, AuditTrail(AuditStore(db))
    await db.close()


async def test_the_row_commits_with_the_change_and_never_without_it(trail: tuple[Database, AuditTrail]) -> None:
    db, audit = trail

    async def request(fail: bool) -> PendingEntry:
        entry = PendingEntry(method="POST", path="/api/v1/things", client="127.0.0.1", on_behalf_of=None,
                             key_id=1, action="create_thing", target="things", creates=True)
        audit.arm(entry)
        try:
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO things (name) VALUES ('x')")
                if fail:
                    raise OSError("disk full")
        except OSError:
            await audit.finish(entry, 503)
            return entry
        await audit.finish(entry, 201)
        return entry

    failed = await asyncio.create_task(request(fail=True), context=contextvars.copy_context())
    assert await db.fetch_value("SELECT COUNT(*) FROM things") == 0
    ok = await asyncio.create_task(request(fail=False), context=contextvars.copy_context())
    rows, total = await audit.page(AuditQuery(), limit=10, offset=0)
    assert total == 2 and [(r.outcome, r.status, r.target) for r in rows] == [("ok", 201, "things/1"),
                                                                             ("failed", 503, "things")]
    assert failed.row_id is None and ok.row_id == rows[0].id
    await db.execute("INSERT INTO things (name) VALUES ('outside any request')")  # not armed here: no row
    assert (await audit.page(AuditQuery(), limit=10, offset=0))[1] == 2
