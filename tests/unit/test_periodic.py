"""Repeating background work: a full disk is said once when it starts and once when it clears; any other error
is logged with its traceback every time; and the task goes on either way."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging

import pytest

from api.core.periodic import every


async def test_a_full_disk_is_logged_once_each_way_and_other_errors_every_time(caplog: pytest.LogCaptureFixture) -> None:
    outcomes = [OSError(errno.ENOSPC, "No space left on device")] * 5 + [None, None, ValueError("bad"), ValueError("bad")]
    outcomes += [OSError(errno.ENOSPC, "full")] * 2 + [None]
    calls = 0

    async def action() -> None:
        nonlocal calls
        outcome = outcomes[calls] if calls < len(outcomes) else None
        calls += 1
        if outcome is not None:
            raise outcome

    caplog.set_level(logging.INFO, logger="api.core.periodic")
    task = asyncio.create_task(every(0.001, action, "flushing"))
    for _ in range(500):
        await asyncio.sleep(0.002)
        if calls > len(outcomes):
            break
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    messages = [record.getMessage() for record in caplog.records]
    assert calls > len(outcomes)  # it went on through every failure
    assert sum("the disk is full" in m for m in messages) == 2  # two episodes, one line each
    assert sum("room on the disk again" in m for m in messages) == 2
    failures = [r for r in caplog.records if r.getMessage() == "flushing failed"]
    assert len(failures) == 2 and all(r.exc_info for r in failures)
