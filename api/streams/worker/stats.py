"""Rolling telemetry of a stream: rates over the last seconds and p50/p95 latency per stage."""

from __future__ import annotations

import time
from collections import deque

import numpy as np

STAGES = ("capture_to_queue", "inference", "tracking", "publish", "end_to_end")


class Rate:
    """Events per second over a sliding window."""

    def __init__(self, window_s: float = 5.0) -> None:
        self._times: deque[float] = deque()
        self._window_s = window_s

    def tick(self, now: float | None = None) -> None:
        self._times.append(time.monotonic() if now is None else now)

    def per_second(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        while self._times and self._times[0] < now - self._window_s:
            self._times.popleft()
        if len(self._times) < 2:
            return 0.0
        span = max(now - self._times[0], 1e-6)
        return round(len(self._times) / span, 2)


class StageLatency:
    """The last `size` samples of each stage, in milliseconds."""

    def __init__(self, size: int = 200) -> None:
        self._samples = {stage: deque(maxlen=size) for stage in STAGES}

    def add(self, stage: str, ms: float) -> None:
        self._samples[stage].append(ms)

    def summary(self) -> dict[str, dict[str, float | None]]:
        out: dict[str, dict[str, float | None]] = {}
        for stage, samples in self._samples.items():
            if samples:
                p50, p95 = np.percentile(np.fromiter(samples, float), (50, 95))
                out[stage] = {"p50": round(float(p50), 2), "p95": round(float(p95), 2)}
            else:
                out[stage] = {"p50": None, "p95": None}
        return out
