"""A stream definition as stored: what the service hands around (routers included) without SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class StreamRow:
    id: int
    name: str
    source: str
    model_id: int
    settings: dict[str, Any]
    enabled: bool
    created_at: float
    created_by: int | None
    updated_at: float | None
