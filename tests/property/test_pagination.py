"""Paging through a list while rows are inserted between pages: no row is lost or repeated.

Newest-first lists (`id DESC`) shift by one for every row inserted above the window; `as_of` (the id of the
first page's first row) pins the list to what it was when the client started."""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager
from hypothesis import given, settings
from hypothesis import strategies as st

from api.core.database import Database
from api.core.pagination import Filters, fetch_page
from api.main import create_app
from api.training.records import SessionConfig
from api.training.store import SessionStore
from tests.helpers import ADMIN_KEY, make_settings

CONFIG = SessionConfig(model="yolov8n.yaml", architecture="yolov8n", epochs=1, batch=2, imgsz=64, device="cpu")
STATUSES = ("queued", "completed", "failed")
_clock = itertools.count(1)

# One page request: (limit, offset, as_of) -> (ids on the page, total).
Fetch = Callable[[int, int, int | None], Awaitable[tuple[list[int], int]]]


@asynccontextmanager
async def session_store() -> AsyncIterator[SessionStore]:
    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "test.db")
        try:
            yield SessionStore(db)
        finally:
            await db.close()


async def add_session(store: SessionStore, status: str) -> int:
    session_id = await store.insert(name="s", task="detect", model="yolov8n.yaml", config=CONFIG.to_json("train"),
                                    priority=0, status=status, created_at=next(_clock), epochs=1)
    assert session_id is not None
    return session_id


async def page_through(fetch: Fetch, insert: Callable[[], Awaitable[object]], limit: int,
                       inserts_between: list[int]) -> tuple[list[int], list[int], set[int]]:
    """(every id the pages showed, in order; the ids the list held before the first page; each page's total)."""
    before, _ = await fetch(1_000_000, 0, None)
    seen, totals, as_of, offset = [], set(), None, 0
    for inserted in itertools.chain(inserts_between, itertools.repeat(0)):
        ids, total = await fetch(limit, offset, as_of)
        seen += ids
        totals.add(total)
        as_of = as_of or (ids[0] if ids else None)
        offset += limit
        if offset >= total:
            break
        for _ in range(inserted):
            await insert()
    return seen, before, totals


@settings(max_examples=60, deadline=None)
@given(statuses=st.lists(st.sampled_from(STATUSES), max_size=14), wanted=st.sampled_from([None, ["completed"]]),
       limit=st.integers(1, 5), inserts_between=st.lists(st.integers(0, 3), max_size=8),
       inserted_status=st.sampled_from(STATUSES))
def test_paging_newest_first_while_rows_arrive_loses_and_repeats_nothing(
        statuses: list[str], wanted: list[str] | None, limit: int, inserts_between: list[int],
        inserted_status: str) -> None:
    async def go() -> tuple[list[int], list[int], set[int]]:
        async with session_store() as store:
            for status in statuses:
                await add_session(store, status)

            async def fetch(limit: int, offset: int, as_of: int | None) -> tuple[list[int], int]:
                items, total = await store.list(statuses=wanted, limit=limit, offset=offset, as_of=as_of)
                return [item.id for item in items], total

            return await page_through(fetch, lambda: add_session(store, inserted_status), limit, inserts_between)

    seen, before, totals = asyncio.run(go())
    assert seen == before, "each row the list held when paging began, once, newest first"
    assert totals == {len(before)}, "every page counts the same rows"


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(0, 15), as_of=st.integers(-1, 17), order=st.sampled_from(["id ASC", "id DESC"]),
       limit=st.integers(1, 20), offset=st.integers(0, 16))
def test_as_of_leaves_out_exactly_the_newer_rows(rows: int, as_of: int, order: str, limit: int, offset: int) -> None:
    async def go() -> tuple[list[int], int, list[int]]:
        async with session_store() as store:
            ids = [await add_session(store, "completed") for _ in range(rows)]
            items, total = await fetch_page(store._db, table="sessions", filters=Filters(), order_by=order,
                                            limit=limit, offset=offset, as_of=as_of, decode=lambda row: row["id"])
            return items, total, ids

    items, total, ids = asyncio.run(go())
    kept = sorted((i for i in ids if i <= as_of), reverse=order == "id DESC")
    assert total == len(kept)
    assert items == kept[offset:offset + limit]


async def test_list_sessions_endpoint_pages_a_snapshot_with_as_of(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path / "data"))
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60) as manager:
        store = app.state.services.sessions.store
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1",
                                     headers={"X-API-Key": ADMIN_KEY}) as http:
            before = [await add_session(store, "completed") for _ in range(5)][::-1]
            first = (await http.get("/sessions", params={"limit": 2})).json()
            await add_session(store, "completed")  # would shift the next window by one without as_of
            as_of = first["items"][0]["id"]
            rest = [(await http.get("/sessions", params={"limit": 2, "offset": offset, "as_of": as_of})).json()
                    for offset in (2, 4)]
            assert [item["id"] for page in [first, *rest] for item in page["items"]] == before
            assert [page["total"] for page in rest] == [5, 5]
            bad = await http.get("/sessions", params={"as_of": 0})
            assert bad.status_code == 422 and bad.json()["error"]["details"]["fields"][0]["field"] == "query.as_of"
