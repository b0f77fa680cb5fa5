"""Run one function in a throwaway spawned process with a timeout and an address-space cap.

For work on untrusted input whose cost we cannot bound up front (loading an uploaded checkpoint): a crash, a
hang or a memory blow-up ends there, never in the server. The cap is counted *after* the heavy imports (torch
alone maps gigabytes of virtual memory), so it bounds what the input makes the process allocate. An AppError the
function raises (a 422 for a refused file) comes back as that error; anything else comes back as a RuntimeError
without the child's paths or traceback."""

from __future__ import annotations

import asyncio
import importlib
import multiprocessing
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from api.core.errors import AppError, ServiceUnavailable
from api.core.memory import cap_address_space
from api.core.pools import Pool

_CONTEXT = multiprocessing.get_context("spawn")


@dataclass(frozen=True, slots=True)
class Limits:
    timeout_s: float
    memory_mb: int


class IsolatedFailure(RuntimeError):
    """The child died, ran out of memory or raised something that is not an AppError."""


def _child(connection: Any, function: Callable[..., Any], args: tuple[Any, ...], memory_mb: int,
           warm_imports: Sequence[str]) -> None:
    try:
        for name in warm_imports:
            importlib.import_module(name)
        cap_address_space(memory_mb)
        connection.send(("ok", function(*args)))
    except AppError as exc:
        connection.send(("app_error", exc))
    except MemoryError:
        connection.send(("failure", "it needed more memory than allowed"))
    except BaseException as exc:  # noqa: BLE001 - everything is reported, nothing escapes the child
        connection.send(("failure", type(exc).__name__))
    finally:
        connection.close()


def _run(function: Callable[..., Any], args: tuple[Any, ...], limits: Limits, warm_imports: Sequence[str]) -> Any:
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    process = _CONTEXT.Process(target=_child, args=(sender, function, args, limits.memory_mb, tuple(warm_imports)),
                               daemon=True, name=f"isolated-{getattr(function, '__name__', 'task')}")
    process.start()
    sender.close()
    try:
        if not receiver.poll(limits.timeout_s):
            raise TimeoutError
        kind, payload = receiver.recv()
    except TimeoutError:
        process.kill()
        raise ServiceUnavailable(f"The work did not finish within {limits.timeout_s:.0f} s.",
                                 code="isolated_timeout") from None
    except (EOFError, OSError):
        process.join(5)
        raise IsolatedFailure(f"the worker process died (exit code {process.exitcode})") from None
    finally:
        receiver.close()
        process.join(5)
        if process.is_alive():
            process.kill()
    if kind == "app_error":
        raise payload
    if kind == "failure":
        raise IsolatedFailure(payload)
    return payload


async def run_isolated(function: Callable[..., Any], *args: Any, limits: Limits,
                       warm_imports: Sequence[str] = (), waiter: Pool | None = None) -> Any:
    """`function(*args)` in a fresh process; it and its arguments must be picklable (module-level). `waiter`:
    the pool whose thread waits for the process (none: asyncio's default one)."""
    if waiter is not None:
        return await waiter.run(_run, function, args, limits, warm_imports)
    return await asyncio.to_thread(_run, function, args, limits, warm_imports)
