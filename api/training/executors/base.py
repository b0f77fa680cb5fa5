"""How the scheduler launches runs, whatever runs them: a local process today, a cluster tomorrow.

The scheduler only ever sees these two protocols, so a new executor plugs in without touching it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from api.training.child.contract import Message, RunSpec


class RunHandle(Protocol):
    """One launched run: its messages until it is gone, and the ways to end it."""

    @property
    def pid(self) -> int | None: ...

    async def start(self) -> None: ...

    def messages(self) -> AsyncIterator[Message]: ...

    async def stop(self, grace_s: float) -> None:
        """Cooperative stop, then harder ways after `grace_s`."""

    def kill(self) -> None: ...

    def describe_exit(self) -> str:
        """Why it ended, in words, for a run that sent no result (killed, crashed)."""

    @property
    def lost(self) -> bool:
        """True when the machine under it died (a cluster node): the run is interrupted and resumes elsewhere."""


class Executor(Protocol):
    places_devices: bool  # True: the executor (a cluster) picks the GPUs; the scheduler passes the asked device on

    def launch(self, spec: RunSpec) -> RunHandle:
        """A handle for `spec`, not started yet; `await handle.start()` starts it."""

    def capacity(self) -> int | None:
        """Runs that fit at once (a cluster's size), or None for MAX_CONCURRENT_SESSIONS."""

    async def close(self) -> None:
        """The server stops: let go of the cluster (the runs were killed already)."""
