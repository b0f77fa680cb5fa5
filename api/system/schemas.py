"""Schemas of system samples."""

from __future__ import annotations

from pydantic import BaseModel, Field


class GpuSample(BaseModel):
    index: int
    name: str
    utilization_percent: float | None = None
    memory_used_mb: float | None = None
    memory_total_mb: float | None = None
    temperature_c: float | None = None
    power_w: float | None = None


class SystemSample(BaseModel):
    ts: float = Field(description="Unix time of the sample.")
    cpu_percent: float
    cpu_per_core: list[float]
    cpu_count: int
    load_avg: list[float] = Field(description="1, 5 and 15 minute load averages.")
    ram_used_mb: float
    ram_total_mb: float
    ram_percent: float
    swap_used_mb: float
    swap_total_mb: float
    disk_used_gb: float = Field(description="Disk of the data directory.")
    disk_total_gb: float
    disk_percent: float
    process_rss_mb: float = Field(description="Resident memory of the server process.")
    gpus: list[GpuSample]
    gpu_error: str | None = Field(None, description="Why no GPU is reported, when `gpus` is empty.")


class SystemHistory(BaseModel):
    items: list[SystemSample]
    total: int
