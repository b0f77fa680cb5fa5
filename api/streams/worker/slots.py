"""Stable slots p1..pN for tracker ids, so TouchDesigner sees an object stay on one channel while it is tracked."""

from __future__ import annotations

from collections.abc import Iterable


class SlotAssigner:
    """Maps track ids to slots 1..N; a lost track keeps its slot for `persistence_s` so a brief occlusion
    does not hand its channel to someone else. Only tracks holding a slot are remembered (memory <= N)."""

    def __init__(self, slots: int, persistence_s: float) -> None:
        self._holder: dict[int, int] = {}  # slot -> track id
        self._slot_of: dict[int, int] = {}  # track id -> slot
        self._last_seen: dict[int, float] = {}  # track id -> time, for holders only
        self.configure(slots, persistence_s)

    def configure(self, slots: int, persistence_s: float) -> None:
        """Apply new settings live; shrinking frees slots above `slots` (their tracks try again next frame)."""
        if slots < 1 or persistence_s < 0:
            raise ValueError("slots must be >= 1 and persistence_s >= 0")
        self.slots, self.persistence_s = slots, persistence_s
        for slot in [slot for slot in self._holder if slot > slots]:
            self._free(slot)

    def update(self, track_ids: Iterable[int], now: float) -> dict[int, int]:
        """Track id -> slot (1-based) for the tracks seen in this frame.

        A track keeps its slot while seen and for persistence_s after it was last seen; a new track takes the
        lowest free slot (new tracks in ascending id order: older tracks first); when all are taken it gets none
        (absent from the result) and is tried again on the next frame."""
        seen = sorted(set(track_ids))
        self._expire(now)
        result: dict[int, int] = {}
        for track in seen:
            slot = self._slot_of.get(track) or self._take(track)
            if slot is not None:
                self._last_seen[track] = now
                result[track] = slot
        return result

    @property
    def occupied(self) -> dict[int, int]:
        """Slot -> track id, including lost tracks still within persistence."""
        return dict(sorted(self._holder.items()))

    def _expire(self, now: float) -> None:
        # Strict: a track seen again only after persistence_s is a new track, even if nobody took its slot.
        for slot, track in list(self._holder.items()):
            if now - self._last_seen[track] > self.persistence_s:
                self._free(slot)

    def _take(self, track: int) -> int | None:
        slot = next((slot for slot in range(1, self.slots + 1) if slot not in self._holder), None)
        if slot is not None:
            self._holder[slot], self._slot_of[track] = track, slot
        return slot

    def _free(self, slot: int) -> None:
        track = self._holder.pop(slot)
        del self._slot_of[track], self._last_seen[track]
