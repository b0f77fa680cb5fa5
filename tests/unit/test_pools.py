"""Bounded pools per kind of work: a full one refuses at once with 503 busy, a busy one never delays another, and
an AppError raised in a pool process comes back whole."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from api.core.errors import ServiceUnavailable, ValidationFailed
from api.core.pools import Pool, Pools


def refuse(field: str) -> None:  # module level: a process pool pickles it
    raise ValidationFailed.for_field(field, "refused in the worker", code="invalid_dataset")


async def test_a_full_pool_refuses_at_once_and_frees_its_places() -> None:
    pool, release = Pool("files", workers=1, queue=1, retry_after_s=7), threading.Event()
    running = [asyncio.ensure_future(pool.run(release.wait, 10)) for _ in range(2)]
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    with pytest.raises(ServiceUnavailable) as refused:
        await pool.run(time.sleep, 0)
    assert time.perf_counter() - started < 0.5
    assert refused.value.code == "busy" and refused.value.headers == {"Retry-After": "7"}
    assert refused.value.details == {"pool": "files"}
    release.set()
    await asyncio.gather(*running)
    assert pool.busy == 0 and await pool.run(sum, [1, 2]) == 3
    pool.shutdown()


async def test_one_kind_of_work_never_waits_behind_another() -> None:
    pools, release = Pools.for_machine(cores=2), threading.Event()
    bulk = [asyncio.ensure_future(pools.files.run(release.wait, 10)) for _ in range(40)]  # more than any pool has
    await asyncio.sleep(0.05)
    started = time.perf_counter()
    assert await asyncio.wait_for(pools.render.run(sum, [1, 2, 3]), 5) == 6
    assert time.perf_counter() - started < 2
    release.set()
    await asyncio.gather(*bulk)
    pools.shutdown()


async def test_an_app_error_from_a_pool_process_keeps_its_code_and_details() -> None:
    pool = Pool("archives", workers=1, queue=0, processes=True)
    try:
        with pytest.raises(ValidationFailed) as raised:
            await pool.run(refuse, "body.file")
    finally:
        pool.shutdown()
    assert raised.value.code == "invalid_dataset" and raised.value.status_code == 422
    assert raised.value.details["fields"][0]["field"] == "body.file"
