"""Zones and counting lines: which side is "in", segment (not infinite line) crossings, jitter counted once,
live reconfiguration; plus properties over randomly sampled straight paths."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from api.streams.schemas import Line, Zone
from api.streams.worker import counting
from api.streams.worker.counting import Counter, Crossing

DOWN = Line(name="gate", start=(0.5, 0.0), end=(0.5, 1.0))  # looks down the image: its left is the right half
RIGHT = Line(name="floor", start=(0.0, 0.5), end=(1.0, 0.5))  # looks right: its left is the top half
SHORT = Line(name="gate", start=(0.5, 0.0), end=(0.5, 0.5))
SQUARE = Zone(name="shelf", points=[(0.2, 0.2), (0.6, 0.2), (0.6, 0.6), (0.2, 0.6)])


def walk(counter: Counter, *points: tuple[float, float], track: int = 1, cls: str = "person") -> list[Crossing]:
    return [crossing for x, y in points for crossing in counter.update([(track, cls, x, y)])]


def test_vertical_line_down_the_image_counts_right_to_left_as_in() -> None:
    counter = Counter([], [DOWN])
    assert walk(counter, (0.6, 0.5), (0.4, 0.5)) == [Crossing("gate", 1, "person", "in")]
    assert walk(counter, (0.4, 0.5), (0.6, 0.5), track=2) == [Crossing("gate", 2, "person", "out")]
    assert counter.line_counts == {"gate": {"person": {"in": 1, "out": 1}}}


def test_horizontal_line_to_the_right_counts_moving_down_as_in() -> None:
    counter = Counter([], [RIGHT])
    assert walk(counter, (0.3, 0.4), (0.3, 0.6)) == [Crossing("floor", 1, "person", "in")]
    assert walk(counter, (0.3, 0.6), (0.3, 0.4), track=2) == [Crossing("floor", 2, "person", "out")]


def test_reversed_line_swaps_directions() -> None:
    counter = Counter([], [Line(name="gate", start=(0.5, 1.0), end=(0.5, 0.0))])
    assert walk(counter, (0.6, 0.5), (0.4, 0.5)) == [Crossing("gate", 1, "person", "out")]


def test_crossing_the_extension_beyond_the_segment_is_not_counted() -> None:
    counter = Counter([], [SHORT])
    assert walk(counter, (0.6, 0.8), (0.4, 0.8)) == []
    assert counter.line_counts == {"gate": {}}


def test_passing_through_an_end_of_the_segment_counts() -> None:
    assert walk(Counter([], [SHORT]), (0.6, 0.5), (0.4, 0.5)) == [Crossing("gate", 1, "person", "in")]


def test_jitter_across_the_line_counts_each_direction_once() -> None:
    counter = Counter([], [DOWN])
    crossings = walk(counter, (0.51, 0.5), (0.49, 0.5), (0.51, 0.5), (0.49, 0.5), (0.51, 0.5), (0.49, 0.5))
    assert [c.direction for c in crossings] == ["in", "out"]
    assert counter.line_counts == {"gate": {"person": {"in": 1, "out": 1}}}


def test_stopping_on_the_line_then_going_on_counts_once_and_going_back_counts_nothing() -> None:
    assert [c.direction for c in walk(Counter([], [DOWN]), (0.6, 0.5), (0.5, 0.5), (0.5, 0.6), (0.4, 0.6))] == ["in"]
    assert walk(Counter([], [DOWN]), (0.6, 0.5), (0.5, 0.5), (0.6, 0.5)) == []


def test_first_sighting_is_never_a_crossing_and_forget_drops_the_last_side() -> None:
    counter = Counter([], [DOWN])
    assert walk(counter, (0.4, 0.5)) == []
    counter.forget([1])
    assert walk(counter, (0.6, 0.5)) == []


def test_totals_are_per_class_at_the_moment_of_crossing() -> None:
    counter = Counter([], [DOWN])
    walk(counter, (0.6, 0.5), (0.4, 0.5), track=1, cls="circle")
    walk(counter, (0.6, 0.5), (0.4, 0.5), track=2, cls="square")
    walk(counter, (0.6, 0.5), (0.4, 0.5), track=3, cls="circle")
    assert counter.line_counts == {"gate": {"circle": {"in": 2, "out": 0}, "square": {"in": 1, "out": 0}}}


def test_zone_counts_are_the_objects_inside_now() -> None:
    counter = Counter([SQUARE, Zone(name="empty", points=[(0.9, 0.9), (1, 0.9), (1, 1)])], [])
    counter.update([(1, "circle", 0.3, 0.3), (2, "circle", 0.5, 0.5), (3, "square", 0.4, 0.3), (4, "circle", 0.7, 0.3)])
    assert counter.zone_counts == {"shelf": {"circle": 2, "square": 1}, "empty": {}}
    counter.update([(1, "circle", 0.1, 0.1)])
    assert counter.zone_counts == {"shelf": {}, "empty": {}}


def test_concave_zone_excludes_its_notch() -> None:
    u_shape = Zone(name="u", points=[(0, 0), (0.3, 0), (0.3, 0.7), (0.6, 0.7), (0.6, 0), (0.9, 0), (0.9, 1), (0, 1)])
    counter = Counter([u_shape], [])
    counter.update([(1, "a", 0.45, 0.3), (2, "a", 0.45, 0.8), (3, "a", 0.1, 0.1)])
    assert counter.zone_counts == {"u": {"a": 2}}


def test_configure_keeps_unchanged_lines_and_resets_moved_or_new_ones() -> None:
    other = Line(name="other", start=(0.0, 0.5), end=(1.0, 0.5))
    counter = Counter([], [DOWN, other])
    walk(counter, (0.6, 0.4), (0.4, 0.6))
    assert counter.line_counts == {"gate": {"person": {"in": 1, "out": 0}}, "other": {"person": {"in": 1, "out": 0}}}
    moved = Line(name="other", start=(0.0, 0.7), end=(1.0, 0.7))
    counter.configure([], [DOWN, moved, Line(name="new", start=(0.9, 0.9), end=(1, 1))])
    assert counter.line_counts == {"gate": {"person": {"in": 1, "out": 0}}, "other": {}, "new": {}}
    assert walk(counter, (0.4, 0.8)) == []  # the moved line forgot which side the track was on
    assert [c.direction for c in walk(counter, (0.6, 0.8), (0.4, 0.8))] == ["out"]  # gate's "in" stays counted
    counter.configure([], [])
    assert counter.line_counts == {}


def test_memory_stays_bounded_without_forget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(counting, "MAX_REMEMBERED", 3)
    counter = Counter([], [DOWN])
    for track in range(10):
        counter.update([(track, "person", 0.6, 0.5)])
    assert walk(counter, (0.4, 0.5), track=6) == []  # forgotten: oldest first
    assert walk(counter, (0.4, 0.5), track=9) == [Crossing("gate", 9, "person", "in")]


# Properties: a line, a point C well inside it, and a straight move through or beside it.
units = st.floats(0.0, 1.0)
lines = st.tuples(units, units, units, units).filter(lambda p: math.dist(p[:2], p[2:]) > 0.05).map(
    lambda p: Line(name="l", start=p[:2], end=p[2:]))
samples = st.lists(st.floats(0.0, 1.0), max_size=20).map(lambda s: sorted({0.0, 1.0, *s}))


def path(line: Line, at: float, angle: float, before: float, after: float) -> tuple[tuple[float, float], ...]:
    """Ends of a straight move through the point at fraction `at` of the line, `angle` radians off the line."""
    (x0, y0), (x1, y1) = line.start, line.end
    cx, cy = x0 + at * (x1 - x0), y0 + at * (y1 - y0)
    heading = math.atan2(y1 - y0, x1 - x0) + angle
    vx, vy = math.cos(heading), math.sin(heading)
    return (cx - before * vx, cy - before * vy), (cx + after * vx, cy + after * vy)


def sampled(ends: tuple[tuple[float, float], ...], at: list[float]) -> list[tuple[float, float]]:
    (ax, ay), (bx, by) = ends
    return [(ax + s * (bx - ax), ay + s * (by - ay)) for s in at]


@given(line=lines, at=st.floats(0.05, 0.95), angle=st.floats(0.3, math.pi - 0.3), sign=st.sampled_from([1, -1]),
       before=st.floats(0.02, 0.5), after=st.floats(0.02, 0.5), at_times=samples)
@settings(max_examples=200, deadline=None)
def test_a_straight_crossing_counts_once_in_its_direction_whatever_the_sampling(
        line: Line, at: float, angle: float, sign: int, before: float, after: float, at_times: list[float]) -> None:
    ends = path(line, at, sign * angle, before, after)
    (x0, y0), (x1, y1) = line.start, line.end
    (ax, ay), (bx, by) = ends
    # Left of start->end on screen (y down) is along (dy, -dx); moving against it is left -> right: "in".
    expected = "in" if (bx - ax) * (y1 - y0) - (by - ay) * (x1 - x0) < 0 else "out"
    assert [c.direction for c in walk(Counter([], [line]), *sampled(ends, at_times))] == [expected]


@given(line=lines, at=st.one_of(st.floats(-3, -0.1), st.floats(1.1, 4)), angle=st.floats(0.3, math.pi - 0.3),
       before=st.floats(0.02, 0.5), after=st.floats(0.02, 0.5), at_times=samples)
@settings(max_examples=200, deadline=None)
def test_a_move_beside_the_segment_counts_nothing(line: Line, at: float, angle: float, before: float, after: float,
                                                  at_times: list[float]) -> None:
    assert walk(Counter([], [line]), *sampled(path(line, at, angle, before, after), at_times)) == []


@given(line=lines, at=st.floats(0.05, 0.95), angle=st.floats(0.3, math.pi - 0.3),
       steps=st.lists(st.floats(0.001, 0.05) | st.floats(-0.05, -0.001), min_size=2, max_size=30))
@settings(max_examples=200, deadline=None)
def test_jitter_counts_each_direction_at_most_once(line: Line, at: float, angle: float, steps: list[float]) -> None:
    """Back and forth across the line along one path: exactly the directions that happened, once each."""
    points = [sampled(path(line, at, angle, -offset, 0.0), [0.0])[0] for offset in steps]
    sides = [counting.side(line, *point) for point in points]
    assume(0 not in sides)
    happened = {"in" if a < 0 else "out" for a, b in zip(sides, sides[1:], strict=False) if a != b}
    counter = Counter([], [line])
    crossings = walk(counter, *points)
    assert sorted(c.direction for c in crossings) == sorted(happened)
    totals = counter.line_counts["l"].get("person", {"in": 0, "out": 0})
    assert totals == {"in": int("in" in happened), "out": int("out" in happened)}
