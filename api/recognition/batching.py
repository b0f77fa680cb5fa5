"""Micro-batching: requests for the same model that arrive while the model is busy run as one model call.

A lone request never waits for company: the inference thread runs it at once. Requests that arrive while a call
is running queue up, and the next call takes all of them that share a model, parameters and photo size (up to
`max_images`): N concurrent clients cost about N / batch calls instead of N. Photos of one size only, because
Ultralytics letterboxes a batch of mixed sizes to a square, which would change the boxes against one-by-one."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any

from prometheus_client.core import GaugeMetricFamily

PredictFn = Callable[[Any, list[Any]], list[Any]]  # (loaded model, images) -> one result per image


@dataclass
class _Job:
    images: list[Any]
    queued_at: float
    done: asyncio.Future[tuple[list[Any], float, float, int]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future())


@dataclass(frozen=True)
class BatchStats:
    calls: int = 0
    images: int = 0


class MicroBatcher:
    def __init__(self, executor: Executor, *, max_images: int = 16) -> None:
        self._executor, self.max_images = executor, max_images
        self._pending: dict[Hashable, tuple[Any, PredictFn, list[_Job]]] = {}
        self._draining = False
        self.stats = BatchStats()

    async def run(self, key: Hashable, loaded: Any, predict: PredictFn,
                  images: list[Any]) -> tuple[list[Any], float, float, int]:
        """(results, inference seconds of the call, seconds queued, images in the call that served them).
        `key` names what may share a call: model, runtime, parameters and photo size."""
        job = _Job(images, time.perf_counter())
        if len(images) >= self.max_images or key is None:  # big requests are their own batch
            key = (object(),)
        entry = self._pending.setdefault(key, (loaded, predict, []))
        entry[2].append(job)
        if not self._draining:
            self._draining = True
            asyncio.ensure_future(self._drain())
        return await job.done

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                key = next(iter(self._pending))  # the oldest waiting kind first
                loaded, predict, jobs = self._pending[key]
                taken, count = [], 0
                while jobs and (not taken or count + len(jobs[0].images) <= self.max_images):
                    job = jobs.pop(0)
                    if not job.done.cancelled():
                        taken.append(job)
                        count += len(job.images)
                if not jobs:
                    del self._pending[key]
                if taken:
                    await self._call(loop, loaded, predict, taken, count)
        finally:
            self._draining = False

    async def _call(self, loop: asyncio.AbstractEventLoop, loaded: Any, predict: PredictFn, jobs: list[_Job],
                    count: int) -> None:
        started = time.perf_counter()
        try:
            results = await loop.run_in_executor(self._executor, predict, loaded,
                                                 [image for job in jobs for image in job.images])
        except BaseException as exc:  # every request of the call learns why
            for job in jobs:
                if not job.done.done():
                    job.done.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        inference_s = time.perf_counter() - started
        self.stats = BatchStats(self.stats.calls + 1, self.stats.images + count)
        first = 0
        for job in jobs:
            mine = results[first:first + len(job.images)]
            first += len(job.images)
            if not job.done.done():
                job.done.set_result((mine, inference_s, started - job.queued_at, count))


def batching_gauges(stats: BatchStats) -> Iterator[GaugeMetricFamily]:
    yield GaugeMetricFamily("recognition_model_calls", "Model calls recognition made (since start).", value=stats.calls)
    yield GaugeMetricFamily("recognition_model_call_images", "Photos those calls took: images / calls is the mean "
                                                              "micro-batch.", value=stats.images)
