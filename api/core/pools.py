"""One bounded pool per kind of blocking work, so bulk work never makes an interactive request wait.

`asyncio.to_thread` shares one pool of min(32, cores + 4) threads among everything: six dataset uploads (their
chunk writes, hashing and extractions) filled it, and a 1-image recognition waited 87 s behind them. Here each
kind has its own workers and a bounded queue; work that finds its queue full is refused at once (503 +
Retry-After) instead of waiting behind the rest. Archive extraction runs in processes: it is CPU-bound Python
that would otherwise hold the GIL the event loop needs."""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import os
import signal
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from api.core.errors import ServiceUnavailable

P = ParamSpec("P")
T = TypeVar("T")


def _process_worker(nice: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C: the server's shutdown ends the workers, no tracebacks
    if nice:
        os.nice(nice)


class Pool:
    def __init__(self, name: str, *, workers: int, queue: int, retry_after_s: int = 5, processes: bool = False,
                 nice: int = 0) -> None:
        self.name, self.workers, self.capacity, self.retry_after_s = name, workers, workers + queue, retry_after_s
        self.processes, self.nice = processes, nice
        self._executor: Executor | None = None
        self.busy = 0  # running or waiting

    def _pool(self) -> Executor:
        if self._executor is None:  # a process pool starts its workers on first use, not at server start
            self._executor = (ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                                  initializer=_process_worker, initargs=(self.nice,))
                              if self.processes else ThreadPoolExecutor(self.workers, thread_name_prefix=self.name))
        return self._executor

    async def run(self, function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self.busy >= self.capacity:
            raise ServiceUnavailable(f"The server is busy with {self.name} work; try again shortly.", code="busy",
                                     headers={"Retry-After": str(self.retry_after_s)}, details={"pool": self.name})
        self.busy += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(
                self._pool(), functools.partial(function, *args, **kwargs))
        finally:
            self.busy -= 1

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True)
class Pools:
    """files: upload chunks, copies, hashes, deletes (short IO). archives: unpacking and validating uploaded
    datasets (processes). render: sample views and charts. waits: threads that only wait on a throwaway child
    (checkpoint loads), so a slow load never holds a thread another kind needs."""

    files: Pool
    archives: Pool
    render: Pool
    waits: Pool

    @classmethod
    def for_machine(cls, cores: int | None = None, *, bulk_nice: int = 10) -> Pools:
        cores = cores or os.cpu_count() or 1
        return cls(
            files=Pool("files", workers=4, queue=256),
            # Niced like training runs (TRAINING_NICE): bulk work shares the cores with them, never starves them.
            archives=Pool("archives", workers=max(1, min(4, cores // 2)), queue=8, processes=True, nice=bulk_nice),
            render=Pool("render", workers=max(2, cores), queue=64, retry_after_s=1),
            waits=Pool("waits", workers=4, queue=16),
        )

    def shutdown(self) -> None:
        for pool in (self.files, self.archives, self.render, self.waits):
            pool.shutdown()
