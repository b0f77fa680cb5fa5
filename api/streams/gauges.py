"""Prometheus series of streams, read at scrape time, each with a `stream` label (the stream's id)."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client.core import GaugeMetricFamily

from api.streams.supervisor import LiveState

_STATUSES = ("starting", "running", "reconnecting", "stopped", "failed")
_PLAIN = (("fps_in", "stream_fps_in", "Frames per second read from the source."),
          ("fps_proc", "stream_fps_processed", "Frames per second tracked."),
          ("queue_size", "stream_queue_size", "Frames waiting for the model (at most 1: older ones are dropped)."),
          ("dropped_frames", "stream_dropped_frames", "Frames dropped so far, instead of lagging behind live."),
          ("reconnects", "stream_reconnects", "Source reconnects so far."),
          ("restarts", "stream_worker_restarts", "Worker restarts after a crash or hang."))


def stream_gauges(states: Iterable[LiveState]) -> Iterable[GaugeMetricFamily]:
    states = list(states)
    families = {key: GaugeMetricFamily(name, help_text, labels=["stream"]) for key, name, help_text in _PLAIN}
    status = GaugeMetricFamily("stream_status", "1 for the stream's current status.", labels=["stream", "status"])
    latency = GaugeMetricFamily("stream_latency_ms", "Latency per stage over the recent frames.",
                                labels=["stream", "stage", "quantile"])
    for state in states:
        label = str(state.stream_id)
        telemetry = {**state.telemetry, "restarts": state.restarts}
        for key, family in families.items():
            value = telemetry.get(key)
            if value is not None:
                family.add_metric([label], float(value))
        for name in _STATUSES:
            status.add_metric([label, name], 1.0 if state.status == name else 0.0)
        for stage, stats in (telemetry.get("latency_ms") or {}).items():
            for quantile, key in (("0.5", "p50"), ("0.95", "p95")):
                if stats.get(key) is not None:
                    latency.add_metric([label, stage, quantile], float(stats[key]))
    yield from families.values()
    yield status
    yield latency
