"""The latest system sample as Prometheus gauges (pulled by Telemetry at scrape time)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import GaugeMetricFamily

from api.system.schemas import SystemSample


def system_gauges(sample: SystemSample) -> Iterator[GaugeMetricFamily]:
    simple: dict[str, tuple[str, Any]] = {
        "system_cpu_percent": ("CPU use, all cores.", sample.cpu_percent),
        "system_ram_used_megabytes": ("RAM in use.", sample.ram_used_mb),
        "system_ram_total_megabytes": ("RAM installed.", sample.ram_total_mb),
        "system_swap_used_megabytes": ("Swap in use.", sample.swap_used_mb),
        "system_disk_used_gigabytes": ("Disk used where the data dir is.", sample.disk_used_gb),
        "system_disk_total_gigabytes": ("Disk size where the data dir is.", sample.disk_total_gb),
        "system_load1": ("1-minute load average.", sample.load_avg[0]),
        "process_resident_memory_megabytes_server": ("RSS of the server process.", sample.process_rss_mb),
    }
    for name, (doc, value) in simple.items():
        yield GaugeMetricFamily(name, doc, value=value)
    util = GaugeMetricFamily("gpu_utilization_percent", "GPU utilization.", labels=["gpu", "name"])
    mem = GaugeMetricFamily("gpu_memory_used_megabytes", "GPU memory in use.", labels=["gpu", "name"])
    for gpu in sample.gpus:
        if gpu.utilization_percent is not None:
            util.add_metric([str(gpu.index), gpu.name], gpu.utilization_percent)
        if gpu.memory_used_mb is not None:
            mem.add_metric([str(gpu.index), gpu.name], gpu.memory_used_mb)
    yield util
    yield mem
