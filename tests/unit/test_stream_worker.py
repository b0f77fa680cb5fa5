"""Pieces of the stream worker on their own: the newest-frames hand-over, the OSC sink, masked sources."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from api.streams.sources import mask
from api.streams.worker.capture import Frame, NewestFrames
from api.streams.worker.osc_sink import OscSink
from tests.stream_helpers import OscRecorder, frames_by_number


def frame(number: int) -> Frame:
    return Frame(np.zeros((2, 2, 3), np.uint8), number, time.time(), time.perf_counter())


def test_a_slow_reader_gets_the_newest_frame_and_the_rest_are_counted_as_dropped() -> None:
    frames = NewestFrames(capacity=1)
    for number in range(1, 101):
        frames.put(frame(number))  # never blocks, however far behind the reader is
    taken = frames.get(timeout=0.1)
    assert taken is not None and taken.number == 100
    assert frames.dropped == 99 and len(frames) == 0
    assert frames.get(timeout=0.01) is None


def test_a_waiting_reader_wakes_on_the_next_frame() -> None:
    frames = NewestFrames()
    got: list[Frame | None] = []
    reader = threading.Thread(target=lambda: got.append(frames.get(timeout=5)))
    reader.start()
    time.sleep(0.05)
    frames.put(frame(7))
    reader.join(2)
    assert got and got[0] is not None and got[0].number == 7


TRACKS = [{"id": 4, "cls": 1, "conf": 0.9, "box": (0.1, 0.2, 0.3, 0.6), "slot": 2},
          {"id": 9, "cls": 0, "conf": 0.8, "box": (0.5, 0.5, 0.7, 0.9), "slot": None}]


def test_per_slot_osc_sends_every_slot_with_empty_ones_zeroed() -> None:
    with OscRecorder() as receiver:
        sink = OscSink("127.0.0.1", receiver.port, "/td/", "per_slot", slots=3)
        sink.publish(12, 1_700_000_000.25, TRACKS, {"shelf": {"circle": 1}}, {"gate": {"square": {"in": 2, "out": 0}}})
        messages = receiver.wait_for(lambda m: any(x.address == "/td/capture_ts" for x in m), timeout=5)
        sink.close()
    values = frames_by_number(messages, "/td/")[12]
    assert values["p2_x"] == pytest.approx(0.2) and values["p2_y"] == pytest.approx(0.4)
    assert values["p2_w"] == pytest.approx(0.2) and values["p2_h"] == pytest.approx(0.4)
    assert (values["p2_id"], values["p2_cls"]) == (4, 1) and values["p2_conf"] == pytest.approx(0.9)
    assert values["p1_id"] == -1 and values["p1_x"] == 0.0 and values["p3_id"] == -1
    assert "p4_x" not in values  # three slots
    assert values["count"] == 2  # tracks this frame, slotted or not
    assert values["capture_ts"] == 1_700_000_000.25  # a double: float32 would lose the fraction
    assert values["zone/shelf/circle"] == 1 and values["line/gate/square/in"] == 2


def test_array_osc_sends_one_message_of_slotted_tracks() -> None:
    with OscRecorder() as receiver:
        sink = OscSink("127.0.0.1", receiver.port, "/td/", "array", slots=3)
        sink.publish(1, time.time(), TRACKS, {}, {})
        messages = receiver.wait_for(lambda m: any(x.address == "/td/tracks" for x in m), timeout=5)
        sink.close()
    (array,) = [m.args for m in messages if m.address == "/td/tracks"]
    assert array[:3] == (2, 4, 1) and array[3:] == pytest.approx((0.9, 0.2, 0.4, 0.2, 0.4))


def test_a_dead_or_unresolvable_osc_target_costs_nothing() -> None:
    dead = OscSink("127.0.0.1", 9, "/td/", "per_slot", slots=8)  # nothing listens on the discard port
    nowhere = OscSink("no-such-host.invalid", 7000, "/td/", "per_slot", slots=8)
    started = time.perf_counter()
    for number in range(100):
        dead.publish(number, time.time(), TRACKS, {}, {})
        nowhere.publish(number, time.time(), TRACKS, {}, {})
    assert time.perf_counter() - started < 2.0  # one failed lookup, then no waiting per frame (~0.1 s here)
    assert nowhere.sent == 0 and nowhere.send_errors >= 1
    dead.close()
    nowhere.close()


@pytest.mark.parametrize(("source", "shown"), [
    ("rtsp://admin:s3cret@10.0.0.5:554/live", "rtsp://admin:***@10.0.0.5:554/live"),
    ("http://u:p@[::1]:8080/x.mjpg", "http://u:***@[::1]:8080/x.mjpg"),
    ("rtsp://10.0.0.5/live", "rtsp://10.0.0.5/live"),
    ("video:3", "video:3"),
])
def test_passwords_in_sources_are_masked(source: str, shown: str) -> None:
    assert mask(source) == shown
