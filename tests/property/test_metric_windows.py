"""Any window of a metric history read through MetricsStore (key, epoch range, limit/offset; points or columns)
equals the same filter applied in Python to the whole history that was written through the same store."""

from __future__ import annotations

import asyncio
import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from api.core.database import Database
from api.training.metrics_store import BATCH_PREFIX, COLUMN_FIELDS, MetricsStore
from api.training.records import SessionConfig
from api.training.store import SessionStore

CONFIG = SessionConfig(model="yolov8n.yaml", architecture="yolov8n", epochs=1, batch=2, imgsz=64, device="cpu")
# Ultralytics' own keys, and near misses of the batch/ prefix: other case, LIKE's wildcards.
KEYS = st.sampled_from(["train/box_loss", "metrics/mAP50(B)", "lr/pg0", "Batch/size", "batch_size", "batch%", "ключ"])
BATCH_KEYS = st.sampled_from(["train/box_loss", "train/cls_loss"])
values = st.floats(-1e15, 1e15, allow_nan=False)


@dataclass(frozen=True)
class Write:
    session: int  # 0 or 1: the window reads session 0 only
    batch: bool
    key: str
    epoch: int
    step: int
    value: float


writes = st.builds(Write, session=st.integers(0, 1), batch=st.booleans(), key=KEYS | BATCH_KEYS, epoch=st.integers(0, 6),
                   step=st.integers(0, 30), value=values)
windows = st.fixed_dictionaries({
    "key": st.none() | KEYS | BATCH_KEYS.map(lambda key: BATCH_PREFIX + key),
    "epoch_from": st.none() | st.integers(0, 6), "epoch_to": st.none() | st.integers(0, 6),
    "limit": st.integers(1, 40), "offset": st.integers(0, 50),
})


async def write_history(folder: str, history: list[list[Write]]) -> tuple[Database, MetricsStore, list[int]]:
    """Every flush is one batch of writes (a resumed run writes some epochs again)."""
    db = await Database.open(Path(folder) / "test.db")
    sessions = SessionStore(db)
    ids = [await sessions.insert(name="s", task="detect", model="m", config=CONFIG.to_json("train"), priority=0,
                                 status="running", created_at=1.0, epochs=1) for _ in range(2)]
    store = MetricsStore(db)
    for batch in history:
        for write in batch:
            session_id = ids[write.session]
            if write.batch:
                store.add_batch(session_id=session_id, epoch=write.epoch, step=write.step, values={write.key: write.value})
            else:
                store.add_epoch(session_id=session_id, epoch=write.epoch, values={write.key: write.value})
        await store.flush()
    return db, store, [i for i in ids if i is not None]


def expected_rows(history: list[list[Write]], table: dict[tuple[str, int], float], window: dict[str, Any]) -> list:
    """The window of session 0 as Python sees it: the last write of each (key, step) wins."""
    latest: dict[tuple[str, int], Write] = {}
    for write in (w for batch in history for w in batch if w.session == 0):
        key, step = (BATCH_PREFIX + write.key, write.step) if write.batch else (write.key, write.epoch)
        latest[key, step] = write
    rows = [{"key": key, "step": step, "epoch": w.epoch, "value": w.value, "ts": table[key, step]}
            for (key, step), w in sorted(latest.items())]
    wanted = window["key"]
    rows = [row for row in rows if (row["key"] == wanted if wanted else not row["key"].startswith(BATCH_PREFIX))]
    low, high = window["epoch_from"], window["epoch_to"]
    return [row for row in rows if (low is None or row["epoch"] >= low) and (high is None or row["epoch"] <= high)]


async def whole_table(db: Database, session_id: int) -> dict[tuple[str, int], float]:
    rows = await db.fetch_all("SELECT key, step, ts FROM metrics WHERE session_id = ?", (session_id,))
    return {(row["key"], row["step"]): row["ts"] for row in rows}


histories = st.lists(st.lists(writes, max_size=12), min_size=1, max_size=3)


@settings(max_examples=60, deadline=None)
@given(history=histories, window=windows)
def test_a_points_window_is_the_filtered_history(history: list[list[Write]], window: dict[str, Any]) -> None:
    async def go() -> tuple[list[dict[str, Any]], int, list[dict[str, Any]]]:
        with tempfile.TemporaryDirectory() as folder:
            db, store, ids = await write_history(folder, history)
            try:
                items, total = await store.history(session_id=ids[0], **window)
                table = await whole_table(db, ids[0])
            finally:
                await db.close()
        return [item.model_dump() for item in items], total, expected_rows(history, table, window)

    items, total, rows = asyncio.run(go())
    assert total == len(rows)
    assert items == rows[window["offset"]:window["offset"] + window["limit"]]


def close(got: list[float], want: list[float]) -> bool:
    """SQLite writes JSON numbers with 15 significant digits."""
    return len(got) == len(want) and all(math.isclose(g, w, rel_tol=1e-14) for g, w in zip(got, want, strict=True))


@settings(max_examples=60, deadline=None)
@given(history=histories, window=windows.filter(lambda window: window["key"] is not None),
       fields=st.lists(st.sampled_from(sorted(COLUMN_FIELDS)), min_size=1, max_size=4, unique=True))
def test_a_columns_window_is_the_filtered_history(history: list[list[Write]], window: dict[str, Any],
                                                 fields: list[str]) -> None:
    async def go() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        with tempfile.TemporaryDirectory() as folder:
            db, store, ids = await write_history(folder, history)
            try:
                body = await store.columns(session_id=ids[0], fields=fields, **window)
                table = await whole_table(db, ids[0])
            finally:
                await db.close()
        return json.loads(body), expected_rows(history, table, window)

    body, rows = asyncio.run(go())
    page = rows[window["offset"]:window["offset"] + window["limit"]]  # one key: ordered by step alone
    assert (body["key"], body["total"]) == (window["key"], len(rows))
    assert list(body) == ["key", "total", *fields]
    for field in fields:
        want = [row[COLUMN_FIELDS[field]] for row in page]
        assert body[field] == want if field in ("steps", "epochs") else close(body[field], want), field
