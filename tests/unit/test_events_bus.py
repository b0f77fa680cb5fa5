from __future__ import annotations

from api.core.events import EventBus


async def test_subscribers_get_their_topics_and_slow_ones_drop_the_oldest() -> None:
    bus = EventBus(queue_size=2)
    async with bus.subscribe(["session"]) as sessions, bus.subscribe() as everything:
        bus.publish("system.sample", {"n": 1})
        for n in range(3):
            bus.publish("session.epoch", {"n": n})
        assert [(await sessions.get()).data["n"] for _ in range(2)] == [1, 2]
        assert sessions.dropped == 1
        assert everything.dropped == 2
    assert bus.subscriber_count == 0
