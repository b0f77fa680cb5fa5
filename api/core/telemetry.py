"""Prometheus metrics of one app instance (own registry: several apps may live in one test process)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class _PullCollector(Collector):
    """Gauges read at scrape time from callables, so nothing has to push values."""

    def __init__(self, produce: Callable[[], Iterable[GaugeMetricFamily]]) -> None:
        self._produce = produce

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            yield from self._produce()
        except Exception:
            logger.debug("metrics collector failed", exc_info=True)


class Telemetry:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "http_requests_total", "HTTP requests by route and status.", ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_latency = Histogram(
            "http_request_duration_seconds", "HTTP request latency by route.", ["method", "route"],
            buckets=_LATENCY_BUCKETS, registry=self.registry,
        )
        self.recognition_stage = Histogram(
            "recognition_stage_seconds", "Recognition latency by stage.", ["stage"],
            buckets=_LATENCY_BUCKETS, registry=self.registry,
        )
        self.loop_lag = Gauge(
            "event_loop_lag_seconds", "Delay of a periodic timer on the server's event loop (last).",
            registry=self.registry,
        )
        self.loop_lag_max = Gauge(
            "event_loop_lag_max_seconds", "Largest event-loop delay seen since start.", registry=self.registry
        )
        self.loop_lag_recent = Gauge(
            "event_loop_lag_recent_max_seconds", "Largest event-loop delay in the last 60 seconds.",
            registry=self.registry,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.http_requests.labels(method, route, str(status)).inc()
        self.http_latency.labels(method, route).observe(seconds)

    def observe_recognition(self, stage: str, seconds: float) -> None:
        self.recognition_stage.labels(stage).observe(seconds)

    def add_pull(self, produce: Callable[[], Iterable[GaugeMetricFamily]]) -> None:
        self.registry.register(_PullCollector(produce))

    def render(self) -> bytes:
        return generate_latest(self.registry)

    async def watch_loop_lag(self, interval_s: float = 0.1, window_s: int = 60) -> None:
        """Runs forever: how late a sleep wakes up is how long the loop was blocked."""
        worst = 0.0
        per_second: deque[tuple[int, float]] = deque()  # (second, worst lag in it) for the recent window
        while True:
            started = time.perf_counter()
            await asyncio.sleep(interval_s)
            lag = max(0.0, time.perf_counter() - started - interval_s)
            worst = max(worst, lag)
            second = int(time.monotonic())
            if per_second and per_second[-1][0] == second:
                per_second[-1] = (second, max(per_second[-1][1], lag))
            else:
                per_second.append((second, lag))
            while per_second[0][0] <= second - window_s:
                per_second.popleft()
            self.loop_lag.set(lag)
            self.loop_lag_max.set(worst)
            self.loop_lag_recent.set(max(value for _, value in per_second))
