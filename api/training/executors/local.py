"""The local executor: one spawned child process per run; its messages streamed into asyncio; stop, terminate, kill."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

from api.core.child_process import CONTEXT, ChildProcess
from api.core.child_process import describe_exit as _describe_exit
from api.training.child import runner
from api.training.child.contract import Message, RunSpec

NOUN = "training process"


class TrainingProcess(ChildProcess):
    """One training child and the pipe it reports on; messages() yields them until the child is gone."""

    def __init__(self, spec: Any, target: Any = runner.main) -> None:
        """`spec` is a RunSpec for runner.main; benchmarks pass their own target and argument."""
        self.spec = spec
        self._stop_event = CONTEXT.Event()
        super().__init__(target, lambda sender: (spec, sender, self._stop_event, os.getpid()),
                         name=f"training-{getattr(spec, 'session_id', '?')}", noun=NOUN)

    def messages(self) -> AsyncIterator[Message]:
        return super().messages()

    lost = False  # this machine is the server's: if it dies, the server's restart finds the run interrupted

    def request_stop(self) -> None:
        self._stop_event.set()

    async def stop(self, grace_s: float, kill_after_s: float = 5.0) -> None:
        """Cooperative stop (trainer.stop in the child), then SIGTERM after the grace period, then SIGKILL."""
        await self.end(self.request_stop, grace_s, kill_after_s)


class LocalProcessExecutor:
    """Runs each spec in a spawned child on this machine (runner.main)."""

    places_devices = False  # the scheduler gives each run a free GPU of this machine

    def launch(self, spec: RunSpec) -> TrainingProcess:
        return TrainingProcess(spec)

    def capacity(self) -> int | None:
        return None

    async def close(self) -> None:
        return None


def describe_exit(code: int | None) -> str:
    return _describe_exit(code, NOUN)
