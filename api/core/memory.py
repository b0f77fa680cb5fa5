"""Give freed heap memory back to the OS after a big request.

glibc keeps what a thread freed in its arena for reuse; after a recognition of many large photos (decoded on
several threads) that was a gigabyte the server held for good, measured by benchmarks/memory_bounds.py. No
library does this; glibc's malloc_trim does, and elsewhere this is a no-op."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


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
