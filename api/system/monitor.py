"""Background sampler of CPU, RAM, swap, disk, load, process RSS and NVIDIA GPUs (NVML)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import psutil

from api.core.errors import ServiceUnavailable
from api.core.events import EventBus
from api.core.periodic import every
from api.system.schemas import GpuSample, SystemSample
from api.system.store import SampleStore

logger = logging.getLogger(__name__)

_MB = 1024 * 1024
_GB = 1024 * _MB


def _default_nvml() -> ModuleType | None:
    try:
        import pynvml
    except ImportError:
        return None
    return pynvml


class GpuProbe:
    """NVML behind one object; every failure becomes `gpus: []` and a reason, never an exception."""

    def __init__(self, nvml: Any = None) -> None:
        self._nvml = nvml if nvml is not None else _default_nvml()
        self._ready = False
        self.error: str | None = None
        # The GPUs last seen: a failed reading empties the sample, but the cards are still there for scheduling.
        self.known_count = 0

    def start(self) -> None:
        if self._nvml is None:
            self.error = "nvidia-ml-py is not installed"
            return
        try:
            self._nvml.nvmlInit()
            self._ready = True
            self.error = None
        except Exception as exc:  # NVMLError_LibraryNotFound, DriverNotLoaded, ...
            self.error = f"NVML unavailable: {exc}"

    def stop(self) -> None:
        if self._ready:
            try:
                self._nvml.nvmlShutdown()
            except Exception:
                logger.debug("nvmlShutdown failed", exc_info=True)
            self._ready = False

    def read(self) -> list[GpuSample]:
        if not self._ready:
            return []
        try:
            count = self._nvml.nvmlDeviceGetCount()
            gpus = [self._read_device(index) for index in range(count)]
        except Exception as exc:
            self.error = f"NVML read failed: {exc}"
            return []
        self.known_count = count
        self.error = None if gpus else "no NVIDIA GPU found"
        return gpus

    def _read_device(self, index: int) -> GpuSample:
        nvml = self._nvml
        handle = nvml.nvmlDeviceGetHandleByIndex(index)
        name = nvml.nvmlDeviceGetName(handle)
        sample = GpuSample(index=index, name=name.decode() if isinstance(name, bytes) else str(name))
        # Each reading may be unsupported on some boards; keep whatever works.
        readings = {
            "utilization_percent": lambda: nvml.nvmlDeviceGetUtilizationRates(handle).gpu,
            "memory_used_mb": lambda: nvml.nvmlDeviceGetMemoryInfo(handle).used / _MB,
            "memory_total_mb": lambda: nvml.nvmlDeviceGetMemoryInfo(handle).total / _MB,
            "temperature_c": lambda: nvml.nvmlDeviceGetTemperature(handle, 0),  # 0 = NVML_TEMPERATURE_GPU
            "power_w": lambda: nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0,
        }
        for field, read in readings.items():
            try:
                setattr(sample, field, float(read()))
            except Exception:
                logger.debug("GPU %d: %s unsupported", index, field)
        return sample


def take_sample(disk_path: Path, gpu: GpuProbe, process: psutil.Process) -> SystemSample:
    """One reading of everything; blocking (NVML), so the monitor runs it in a thread."""
    per_core = psutil.cpu_percent(percpu=True)
    memory = psutil.virtual_memory()
    swap = psutil.swap_memory()
    disk = psutil.disk_usage(str(disk_path))
    gpus = gpu.read()
    return SystemSample(
        ts=time.time(),
        cpu_percent=round(sum(per_core) / max(len(per_core), 1), 1),
        cpu_per_core=per_core,
        cpu_count=len(per_core),
        load_avg=[round(x, 2) for x in os.getloadavg()],
        ram_used_mb=round((memory.total - memory.available) / _MB, 1),
        ram_total_mb=round(memory.total / _MB, 1),
        ram_percent=memory.percent,
        swap_used_mb=round(swap.used / _MB, 1),
        swap_total_mb=round(swap.total / _MB, 1),
        disk_used_gb=round(disk.used / _GB, 2),
        disk_total_gb=round(disk.total / _GB, 2),
        disk_percent=disk.percent,
        process_rss_mb=round(process.memory_info().rss / _MB, 1),
        gpus=gpus,
        gpu_error=None if gpus else gpu.error or "no NVIDIA GPU found",
    )


class SystemMonitor:
    """Samples every `interval_s`, keeps the latest in memory, stores history, publishes events."""

    def __init__(
        self,
        store: SampleStore,
        bus: EventBus,
        *,
        disk_path: Path,
        interval_s: float,
        retention_s: float,
        gpu: GpuProbe | None = None,
    ) -> None:
        self._store = store
        self._bus = bus
        self._disk_path = disk_path
        self._interval_s = interval_s
        self._retention_s = retention_s
        self.gpu = gpu or GpuProbe()
        self._process = psutil.Process()
        self._latest: SystemSample | None = None
        self._task: asyncio.Task[None] | None = None
        self._samples = 0

    @property
    def latest(self) -> SystemSample:
        if self._latest is None:
            raise ServiceUnavailable("The first system sample is not ready yet.", code="sample_not_ready")
        return self._latest

    async def start(self) -> None:
        await asyncio.to_thread(self.gpu.start)
        psutil.cpu_percent(percpu=True)  # primes the counters so the first reading is meaningful
        await self.sample_once()
        self._task = asyncio.create_task(every(self._interval_s, self._tick, "system sampling"), name="system-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await asyncio.to_thread(self.gpu.stop)

    async def sample_once(self) -> SystemSample:
        sample = await asyncio.to_thread(take_sample, self._disk_path, self.gpu, self._process)
        self._latest = sample
        await self._store.add(sample)
        self._bus.publish("system.sample", sample.model_dump())
        return sample

    async def history(self, *, minutes: float, limit: int, offset: int) -> tuple[list[SystemSample], int]:
        return await self._store.since(time.time() - minutes * 60, limit=limit, offset=offset)

    async def prune(self) -> None:
        await self._store.prune(self._retention_s)

    async def _tick(self) -> None:
        await self.sample_once()
        self._samples += 1
        if self._samples % 100 == 0:
            await self.prune()
