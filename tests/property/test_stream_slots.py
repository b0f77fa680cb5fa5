"""SlotAssigner on random sequences of frames (sets of track ids at non-decreasing times) and live resizes:
slots stay in 1..N and unshared, a live track keeps its slot, a lost track's slot goes to someone else only
after persistence, new tracks take the lowest free slot, and a track gets none only when all are taken."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.streams.worker.slots import SlotAssigner


@dataclass(frozen=True)
class Frame:
    dt: float
    tracks: frozenset[int]


@dataclass(frozen=True)
class Resize:
    slots: int
    persistence_s: float


# Whole seconds: times hit the persistence boundary exactly, where off-by-one mistakes live.
frames = st.builds(Frame, dt=st.integers(0, 3).map(float), tracks=st.frozensets(st.integers(0, 12), max_size=7))
resizes = st.builds(Resize, slots=st.integers(1, 6), persistence_s=st.integers(0, 3).map(float))
steps = st.lists(st.one_of(frames, frames, frames, resizes), max_size=40)


class Model:
    """What the test knows: who held which slot after the last step, and when each holder was last seen."""

    def __init__(self, slots: int, persistence_s: float) -> None:
        self.slots, self.persistence_s = slots, persistence_s
        self.holders: dict[int, int] = {}
        self.last_seen: dict[int, float] = {}
        self.now = 0.0

    def alive(self, track: int) -> bool:
        return self.now - self.last_seen[track] <= self.persistence_s

    def check_frame(self, seen: frozenset[int], result: dict[int, int], occupied: dict[int, int]) -> None:
        assert set(result) <= seen
        assert len(set(result.values())) == len(result)
        assert all(1 <= slot <= self.slots for slot in [*result.values(), *occupied])
        assert len(set(occupied.values())) == len(occupied)
        assert all(occupied[slot] == track for track, slot in result.items())
        for slot, track in self.holders.items():
            if self.alive(track):
                assert occupied.get(slot) == track, "a track within persistence lost its slot"
                if track in seen:
                    assert result[track] == slot, "a live track changed slot"
            elif track not in seen:  # seen again too late, it is a new track and may get any free slot
                assert track not in occupied.values(), "a slot outlived persistence"
        kept = {slot for slot, track in self.holders.items() if self.alive(track)}
        for track in sorted(seen):
            if track not in result:
                assert len(occupied) == self.slots and track not in occupied.values()
            elif result[track] not in kept:
                assert all(slot in occupied for slot in range(1, result[track])), "not the lowest free slot"
        self.holders = occupied
        self.last_seen = {**self.last_seen, **{track: self.now for track in result}}


@given(slots=st.integers(1, 6), persistence_s=st.integers(0, 3).map(float), steps=steps)
@settings(max_examples=300, deadline=None)
def test_slots_are_stable_unshared_and_lowest_free(slots: int, persistence_s: float, steps: list[Frame | Resize]) -> None:
    assigner, model = SlotAssigner(slots, persistence_s), Model(slots, persistence_s)
    for step in steps:
        match step:
            case Frame(dt=dt, tracks=tracks):
                model.now += dt
                result = assigner.update(tracks, model.now)
                model.check_frame(tracks, result, assigner.occupied)
            case Resize(slots=n, persistence_s=p):
                assigner.configure(n, p)
                model.slots, model.persistence_s = n, p
                assert assigner.occupied == {slot: t for slot, t in model.holders.items() if slot <= n}
                model.holders = assigner.occupied


def test_lost_track_keeps_slot_for_persistence_then_frees_it() -> None:
    assigner = SlotAssigner(slots=2, persistence_s=1.0)
    assert assigner.update([7, 3], now=0.0) == {3: 1, 7: 2}
    assert assigner.update([7, 9], now=1.0) == {7: 2}  # 3 lost but within persistence: 9 waits
    assert assigner.occupied == {1: 3, 2: 7}
    assert assigner.update([7, 9], now=1.5) == {7: 2, 9: 1}
    assert assigner.update([3, 7, 9], now=1.6) == {7: 2, 9: 1}  # 3 is back too late: a new track, no slot left


def test_shrinking_frees_the_upper_slots() -> None:
    assigner = SlotAssigner(slots=3, persistence_s=5.0)
    assigner.update([1, 2, 3], now=0.0)
    assigner.configure(slots=2, persistence_s=5.0)
    assert assigner.occupied == {1: 1, 2: 2}
    assert assigner.update([1, 2, 3], now=0.1) == {1: 1, 2: 2}


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        SlotAssigner(slots=0, persistence_s=1.0)
    with pytest.raises(ValueError):
        SlotAssigner(slots=1, persistence_s=-1.0)
