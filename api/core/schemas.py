"""Schemas shared by every area: the error body and paging."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["Session 42 does not exist."])
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorResponse(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: str = Field(examples=["ok"])
    version: str
    uptime_s: float
    database: str = Field(examples=["ok"])
    executor: str = Field("local", description="Where training runs: local or ray.")
    cluster: str = Field("local", description="local, or the Ray cluster's state: connecting, connected, "
                         "unreachable (runs wait in the queue until it is back).")


MAX_ID = 2**63 - 1  # SQLite's INTEGER: a larger id must be a 422, not an OverflowError (500) in the driver
