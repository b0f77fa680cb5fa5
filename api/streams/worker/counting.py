"""Zone occupancy and line crossings from track centres, in the normalised 0..1 image space of the stream's
zones and lines (x to the right, y DOWN, as in the image)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from api.streams.schemas import Line, Zone

Direction = Literal["in", "out"]
TrackCentre = tuple[int, str, float, float]  # track id, class name, cx, cy
MAX_REMEMBERED = 10_000  # tracks whose line sides are kept when the caller never calls forget()


@dataclass(frozen=True)
class Crossing:
    line: str
    track_id: int
    class_name: str
    direction: Direction


def side(line: Line, x: float, y: float) -> int:
    """-1 on the line's left, +1 on its right, 0 on it (see Counter for which side is which).

    cross = dx * (y - y0) - dy * (x - x0) with (dx, dy) = end - start. With y pointing down the usual sign flips:
    the left side, seen from start looking towards end in the picture as shown, has cross < 0."""
    (x0, y0), (x1, y1) = line.start, line.end
    cross = (x1 - x0) * (y - y0) - (y1 - y0) * (x - x0)
    return (cross > 0) - (cross < 0)


def _orient(ax: float, ay: float, bx: float, by: float, px: float, py: float) -> float:
    return (bx - ax) * (py - ay) - (by - ay) * (px - ax)


def meets_segment(line: Line, a: tuple[float, float], b: tuple[float, float]) -> bool:
    """Whether the move a -> b, whose ends lie strictly on opposite sides of the line, passes between its ends
    (ends included): start and end of the line must not lie strictly on one side of the move."""
    (x0, y0), (x1, y1) = line.start, line.end
    o0, o1 = _orient(*a, *b, x0, y0), _orient(*a, *b, x1, y1)
    return o0 * o1 <= 0


def inside(points: Sequence[tuple[float, float]], x: float, y: float) -> bool:
    """Even-odd rule (a ray to the right): a centre exactly on an edge may fall either way."""
    result = False
    for (xa, ya), (xb, yb) in zip(points, [*points[1:], points[0]], strict=True):
        if (ya > y) != (yb > y) and x < xa + (y - ya) * (xb - xa) / (yb - ya):
            result = not result
    return result


class Counter:
    """Objects inside each zone now, and crossings of each line in total.

    Direction of a line: stand on `start` looking towards `end` in the picture as shown (y down). Moving from
    your left to your right is "in", right to left is "out". So a vertical line from (0.5, 0) to (0.5, 1) looks
    down the image and its left is the RIGHT half (x > 0.5): moving right-to-left across it is "in". A
    horizontal line from (0, 0.5) to (1, 0.5) has the top half on its left: moving down the image is "in".

    A crossing counts when the move between the track's last centre strictly off the line and its current
    centre strictly on the other side passes through the line segment (not its extension). Each track counts at
    most once per line and direction, so jitter on the line cannot inflate totals; update() returns only the
    crossings that were counted."""

    def __init__(self, zones: list[Zone], lines: list[Line]) -> None:
        self._zones: list[Zone] = []
        self._lines: list[Line] = []
        self._zone_counts: dict[str, dict[str, int]] = {}
        self._totals: dict[str, dict[str, dict[str, int]]] = {}
        self._anchor: dict[int, dict[str, tuple[float, float, int]]] = {}  # track -> line -> last x, y, side != 0
        self._counted: dict[int, set[tuple[str, Direction]]] = {}
        self.configure(zones, lines)

    def configure(self, zones: list[Zone], lines: list[Line]) -> None:
        """Live change: lines unchanged in name and geometry keep their totals, others start from zero."""
        kept = {line.name for line in lines if line in self._lines}
        self._totals = {line.name: self._totals[line.name] if line.name in kept else {} for line in lines}
        for track in self._anchor:
            self._anchor[track] = {name: value for name, value in self._anchor[track].items() if name in kept}
        for track in self._counted:
            self._counted[track] = {entry for entry in self._counted[track] if entry[0] in kept}
        same_zones = {zone.name for zone in zones if zone in self._zones}
        self._zone_counts = {zone.name: self._zone_counts[zone.name] if zone.name in same_zones else {}
                             for zone in zones}
        self._zones, self._lines = list(zones), list(lines)

    def update(self, tracks: Iterable[TrackCentre]) -> list[Crossing]:
        """The crossings counted in this frame; zone_counts become the objects inside now."""
        self._zone_counts = {zone.name: {} for zone in self._zones}
        crossings: list[Crossing] = []
        for track_id, class_name, x, y in tracks:
            self._count_zones(class_name, x, y)
            crossings.extend(self._cross_lines(track_id, class_name, x, y))
        self._bound_memory()
        return crossings

    @property
    def zone_counts(self) -> dict[str, dict[str, int]]:
        """Zone -> class -> objects whose centre is inside it in the last frame."""
        return {name: dict(counts) for name, counts in self._zone_counts.items()}

    @property
    def line_counts(self) -> dict[str, dict[str, dict[str, int]]]:
        """Line -> class -> {"in": n, "out": n} since the line was configured."""
        return {name: {cls: dict(pair) for cls, pair in per_class.items()} for name, per_class in self._totals.items()}

    def forget(self, track_ids: Iterable[int]) -> None:
        """Drop what is remembered of tracks gone for good."""
        for track in track_ids:
            self._anchor.pop(track, None)
            self._counted.pop(track, None)

    def _count_zones(self, class_name: str, x: float, y: float) -> None:
        for zone in self._zones:
            if inside(zone.points, x, y):
                counts = self._zone_counts[zone.name]
                counts[class_name] = counts.get(class_name, 0) + 1

    def _cross_lines(self, track_id: int, class_name: str, x: float, y: float) -> list[Crossing]:
        anchors = self._anchor.pop(track_id, {})
        self._anchor[track_id] = anchors  # re-inserted last: dict order is least recently seen first
        crossings = []
        for line in self._lines:
            now = side(line, x, y)
            if now == 0:
                continue  # on the line: wait for the side it leaves to
            before = anchors.get(line.name)
            anchors[line.name] = (x, y, now)
            if before is None or before[2] == now or not meets_segment(line, before[:2], (x, y)):
                continue
            direction: Direction = "in" if before[2] < 0 else "out"
            if self._count(track_id, line.name, class_name, direction):
                crossings.append(Crossing(line.name, track_id, class_name, direction))
        return crossings

    def _count(self, track_id: int, line: str, class_name: str, direction: Direction) -> bool:
        counted = self._counted.setdefault(track_id, set())
        if (line, direction) in counted:
            return False
        counted.add((line, direction))
        pair = self._totals[line].setdefault(class_name, {"in": 0, "out": 0})
        pair[direction] += 1
        return True

    def _bound_memory(self) -> None:
        while len(self._anchor) > MAX_REMEMBERED:
            self.forget([next(iter(self._anchor))])
