"""Process memory: cap what a child may allocate, and give freed heap memory back to the OS.

glibc keeps what a thread freed in its arena for reuse; after a recognition of many large photos (decoded on
several threads) that was a gigabyte the server held for good, measured by benchmarks/memory_bounds.py. No
library does this; glibc's malloc_trim does, and elsewhere this is a no-op."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import resource


def cap_address_space(extra_mb: int) -> None:
    """RLIMIT_AS at what is mapped now plus `extra_mb`: called after the heavy imports (torch alone maps
    gigabytes of address space), it bounds what the work itself allocates. Children inherit it."""
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * resource.getpagesize()
    cap = mapped + extra_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_free_memory() -> None:
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
