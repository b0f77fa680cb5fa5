"""What every benchmark shares: the server's API key for the run and a percentile."""

from __future__ import annotations

KEY = "tk_benchmark-key-0123456789"


def percentile(values: list[float], q: float) -> float:
    """The q-quantile by nearest rank (q in 0..1); NaN for no values."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")
