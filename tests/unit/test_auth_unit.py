"""Lockout arithmetic with a fake clock, and key hashing."""

from __future__ import annotations

from api.auth.service import FailureTracker, LockoutPolicy, hash_key, new_plain_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failures_inside_the_window_lock_out_then_release() -> None:
    clock = Clock()
    tracker = FailureTracker(LockoutPolicy(max_failures=3, window_s=10, lockout_s=60), clock)
    for _ in range(2):
        tracker.record_failure("1.2.3.4")
    assert tracker.retry_after("1.2.3.4") == 0
    tracker.record_failure("1.2.3.4")
    assert tracker.retry_after("1.2.3.4") == 60
    assert tracker.retry_after("5.6.7.8") == 0
    clock.now += 59
    assert tracker.retry_after("1.2.3.4") == 1
    clock.now += 2
    assert tracker.retry_after("1.2.3.4") == 0


def test_failures_spread_beyond_the_window_do_not_lock() -> None:
    clock = Clock()
    tracker = FailureTracker(LockoutPolicy(max_failures=3, window_s=10, lockout_s=60), clock)
    for _ in range(6):
        tracker.record_failure("1.2.3.4")
        clock.now += 6
    assert tracker.retry_after("1.2.3.4") == 0


def test_keys_are_random_and_hash_is_not_the_key() -> None:
    first, second = new_plain_key(), new_plain_key()
    assert first != second and first.startswith("tk_") and len(first) > 40
    assert hash_key(first) != first and len(hash_key(first)) == 64
