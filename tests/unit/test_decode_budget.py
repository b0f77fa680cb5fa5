"""Admission to decoding by pixels: one-photo requests go in together, big ones two at a time, the heap is
trimmed once no request has come for a while, and a request cancelled while it waits gives back what it had
gathered."""

from __future__ import annotations

import asyncio

from api.recognition.admission import DecodeBudget, pixels_reserved
from api.recognition.images import REQUEST_PIXELS

IDLE_S = 0.05


class Idle:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self) -> None:
        self.calls += 1


async def hold(budget: DecodeBudget, photos: int, inside: list[int], release: asyncio.Event) -> None:
    async with budget.admit(photos):
        inside.append(photos)
        await release.wait()


async def test_eight_one_photo_requests_are_inside_at_once_and_a_quiet_spell_trims_once() -> None:
    idle, release, inside = Idle(), asyncio.Event(), []
    budget = DecodeBudget(on_idle=idle, idle_s=IDLE_S)
    tasks = [asyncio.create_task(hold(budget, 1, inside, release)) for _ in range(8)]
    await asyncio.sleep(0.01)
    assert len(inside) == 8 and budget.inside == 8
    release.set()
    await asyncio.gather(*tasks)
    assert idle.calls == 0 and budget.inside == 0  # not at once: the next request would fault the memory back in
    await asyncio.sleep(IDLE_S * 3)
    assert idle.calls == 1


async def test_requests_that_keep_coming_put_the_trim_off_until_they_stop() -> None:
    idle, done = Idle(), asyncio.Event()
    done.set()
    budget = DecodeBudget(on_idle=idle, idle_s=IDLE_S)
    for _ in range(8):  # one client in sequence, a request every IDLE_S / 2
        await hold(budget, 1, [], done)
        await asyncio.sleep(IDLE_S / 2)
    assert idle.calls == 0
    await asyncio.sleep(IDLE_S * 3)
    assert idle.calls == 1
    budget.close()


async def test_the_biggest_requests_go_two_at_a_time_in_arrival_order() -> None:
    assert pixels_reserved(1) == 2048 * 2048 and all(pixels_reserved(n) <= REQUEST_PIXELS for n in (16, 64, 500))
    idle, release, inside = Idle(), asyncio.Event(), []
    budget = DecodeBudget(on_idle=idle, idle_s=IDLE_S)
    tasks = [asyncio.create_task(hold(budget, photos, inside, release)) for photos in (64, 32, 16, 1)]
    await asyncio.sleep(0.01)
    assert inside == [64, 32]  # the 16-photo request waits for room, and the 1-photo one behind it waits its turn
    release.set()
    await asyncio.gather(*tasks)
    assert sorted(inside) == [1, 16, 32, 64]


async def test_a_request_cancelled_while_it_waits_gives_back_what_it_gathered() -> None:
    idle, release, inside = Idle(), asyncio.Event(), []
    budget = DecodeBudget(on_idle=idle, idle_s=IDLE_S)
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
