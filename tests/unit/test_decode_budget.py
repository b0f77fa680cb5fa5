"""Admission to decoding by pixels: one-photo requests go in together, big ones two at a time, the heap is
trimmed when the last one leaves, and a request cancelled while it waits gives back what it had gathered."""

from __future__ import annotations

import asyncio

from api.recognition.admission import DecodeBudget, pixels_reserved
from api.recognition.images import REQUEST_PIXELS


class Idle:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> None:
        self.calls += 1


async def hold(budget: DecodeBudget, photos: int, inside: list[int], release: asyncio.Event) -> None:
    async with budget.admit(photos):
        inside.append(photos)
        await release.wait()


async def test_eight_one_photo_requests_are_inside_at_once_and_the_last_out_trims() -> None:
    idle, release, inside = Idle(), asyncio.Event(), []
    budget = DecodeBudget(on_idle=idle)
    tasks = [asyncio.create_task(hold(budget, 1, inside, release)) for _ in range(8)]
    await asyncio.sleep(0.01)
    assert len(inside) == 8 and budget.inside == 8
    release.set()
    await asyncio.gather(*tasks)
    assert idle.calls == 1 and budget.inside == 0


async def test_the_biggest_requests_go_two_at_a_time_in_arrival_order() -> None:
    assert pixels_reserved(1) == 2048 * 2048 and all(pixels_reserved(n) <= REQUEST_PIXELS for n in (16, 64, 500))
    idle, release, inside = Idle(), asyncio.Event(), []
    budget = DecodeBudget(on_idle=idle)
    tasks = [asyncio.create_task(hold(budget, photos, inside, release)) for photos in (64, 32, 16, 1)]
    await asyncio.sleep(0.01)
    assert inside == [64, 32]  # the 16-photo request waits for room, and the 1-photo one behind it waits its turn
    release.set()
    await asyncio.gather(*tasks)
    assert sorted(inside) == [1, 16, 32, 64]


async def test_a_request_cancelled_while_it_waits_gives_back_what_it_gathered() -> None:
    idle, release, inside = Idle(), asyncio.Event(), []
    budget = DecodeBudget(on_idle=idle)
    first = asyncio.create_task(hold(budget, 64, inside, release))
    second = asyncio.create_task(hold(budget, 48, inside, release))
    waiting = asyncio.create_task(hold(budget, 64, inside, release))  # gathers part of its units, then waits
    await asyncio.sleep(0.01)
    assert inside == [64, 48]
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    release.set()
    await asyncio.gather(first, second)
    after = asyncio.Event()
    after.set()
    await asyncio.wait_for(hold(budget, 64, [], after), timeout=1)  # every unit came back
    await asyncio.wait_for(asyncio.gather(*(hold(budget, 64, [], after) for _ in range(2))), timeout=1)
    assert budget.inside == 0
