"""One stream's pipeline, in its worker process: newest frame -> track -> slots -> counting -> sinks -> server.

Runs on the process's main thread; the capture and the outbox have their own threads, so neither a slow source
nor a slow server ever holds a frame back. Settings arrive as whole WorkerSpecs; only what changed is redone."""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from typing import Any

from api.streams.worker.annotate import annotate
from api.streams.worker.capture import Capture, Frame, NewestFrames
from api.streams.worker.contract import (
    FrameTracks,
    LineCrossed,
    PreviewFrame,
    SettingsRefused,
    StatusChanged,
    TelemetryReport,
    WorkerSpec,
)
from api.streams.worker.counting import Counter
from api.streams.worker.osc_sink import OscSink, close_quietly
from api.streams.worker.outbox import Outbox
from api.streams.worker.slots import SlotAssigner
from api.streams.worker.stats import Rate, StageLatency
from api.streams.worker.tracker import ModelNotUsable, Tracker, load_model

logger = logging.getLogger(__name__)

HEARTBEAT_S = 1.0
FORGET_AFTER_S = 10.0  # a track unseen this long is gone for good: counting forgets it (memory stays bounded)


class Pipeline:
    def __init__(self, spec: WorkerSpec, outbox: Outbox) -> None:
        self.spec, self.outbox = spec, outbox
        self.settings = spec.settings
        self.frames = NewestFrames(capacity=1)
        self.threads = spec.threads or os.cpu_count() or 1
        self.tracker = Tracker(load_model(spec.model_path, self.threads), self.settings["tracker"])
        self.slots = SlotAssigner(self.settings["objects_max"], self.settings["persistence_ms"] / 1000)
        self.counter = Counter(self._zones(), self._lines())
        self.osc = self._osc_sink()
        self.capture = self._capture()
        self.latency = StageLatency()
        self.proc_rate = Rate()
        self.frames_in_samples: deque[tuple[float, int]] = deque(maxlen=16)
        self.frames_processed = 0
        self.rate_limited = 0
        self.last_seen: dict[int, float] = {}
        self.last_processed = float("-inf")
        self.last_preview = float("-inf")
        self.last_heartbeat = float("-inf")

    # -- settings ---------------------------------------------------------------------------------------------------

    def _zones(self) -> list[Any]:
        from api.streams.schemas import Zone

        return [Zone.model_validate(z) for z in self.settings.get("zones") or []]

    def _lines(self) -> list[Any]:
        from api.streams.schemas import Line

        return [Line.model_validate(line) for line in self.settings.get("lines") or []]

    def _osc_sink(self) -> OscSink | None:
        osc = (self.settings.get("sinks") or {}).get("osc")
        if not osc:
            return None
        return OscSink(osc["host"], osc["port"], osc["address_prefix"], osc["channel_format"], self.settings["objects_max"])

    def _capture(self) -> Capture:
        capture = Capture(self.spec.source, self.frames, self._status, period_frames=self.settings["period_frames"])
        capture.start()
        return capture

    def _status(self, status: str, reason: str | None) -> None:
        self.outbox.send(StatusChanged(status, reason))  # type: ignore[arg-type]

    def configure(self, spec: WorkerSpec) -> None:
        """A live change: the model or the source is reopened only when it changed; the rest applies next frame."""
        old, new = self.settings, spec.settings
        if spec.model_path != self.spec.model_path:
            try:
                self.tracker = Tracker(load_model(spec.model_path, self.threads), new["tracker"])
            except ModelNotUsable as exc:
                self.outbox.send(SettingsRefused(f"kept the previous model: {exc}"))
                spec = WorkerSpec(**{**_fields(spec), "model_path": self.spec.model_path})
        elif (new["tracker"], new.get("device")) != (old["tracker"], old.get("device")):
            self.tracker.reset(new["tracker"])
        self.settings = new
        self.slots.configure(new["objects_max"], new["persistence_ms"] / 1000)
        if (new.get("zones"), new.get("lines")) != (old.get("zones"), old.get("lines")):
            self.counter.configure(self._zones(), self._lines())
        if (new.get("sinks"), new["objects_max"]) != (old.get("sinks"), old["objects_max"]):
            close_quietly(self.osc)
            self.osc = self._osc_sink()
        source_changed = spec.source != self.spec.source
        self.spec = spec
        if source_changed:
            self.capture.stop()
            self.frames.clear()
            self._status("starting", None)
            self.capture = self._capture()
        else:
            self.capture.period_frames = new["period_frames"]

    # -- the loop ---------------------------------------------------------------------------------------------------

    def step(self) -> None:
        """One turn: a frame if there is one, and the heartbeat when it is due."""
        frame = self.frames.get(timeout=0.2)
        now = time.monotonic()
        if frame is not None:
            max_fps = self.settings.get("max_fps")
            if max_fps and now - self.last_processed < 1.0 / max_fps:
                self.rate_limited += 1
            else:
                self.last_processed = now
                self._process(frame, now)
        if now - self.last_heartbeat >= HEARTBEAT_S:
            self.last_heartbeat = now
            self._forget_old_tracks(now)
            self.outbox.send(TelemetryReport(self.telemetry(now)))

    def _process(self, frame: Frame, now: float) -> None:
        taken = time.perf_counter()
        self.latency.add("capture_to_queue", (taken - frame.captured_mono) * 1000)
        found, times = self.tracker.track(frame.image, self.settings)
        self.latency.add("inference", times.inference_ms)
        self.latency.add("tracking", times.tracking_ms)
        published = time.perf_counter()
        slot_of = self.slots.update([t.id for t in found], now)
        crossings = self.counter.update([(t.id, t.name, *t.centre) for t in found])
        for track in found:
            self.last_seen[track.id] = now
        tracks = [{"id": t.id, "cls": t.cls, "name": t.name, "conf": t.conf, "box": t.box, "slot": slot_of.get(t.id)}
                  for t in found]
        zone_counts, line_counts = self.counter.zone_counts, self.counter.line_counts
        if self.osc is not None:
            self.osc.publish(frame.number, frame.captured_at, tracks, zone_counts, line_counts)
        done = time.perf_counter()
        self.latency.add("end_to_end", (done - frame.captured_mono) * 1000)
        height, width = frame.image.shape[:2]
        self.outbox.frame(FrameTracks(frame.number, frame.captured_at, width, height, tracks, zone_counts, line_counts))
        for crossing in crossings:
            self.outbox.send(LineCrossed(crossing.line, crossing.track_id, crossing.class_name, crossing.direction,
                                         slot_of.get(crossing.track_id), frame.number, frame.captured_at))
        self.latency.add("publish", (time.perf_counter() - published) * 1000)
        self.frames_processed += 1
        self.proc_rate.tick(now)
        if self.spec.preview_fps and now - self.last_preview >= 1.0 / self.spec.preview_fps:
            self.last_preview = now
            self.outbox.preview(PreviewFrame(frame.number, annotate(frame.image, tracks, self.settings)))

    def _forget_old_tracks(self, now: float) -> None:
        gone = [track_id for track_id, seen in self.last_seen.items() if now - seen > FORGET_AFTER_S]
        if gone:
            self.counter.forget(gone)
            for track_id in gone:
                del self.last_seen[track_id]

    def _fps_in(self, now: float) -> float:
        self.frames_in_samples.append((now, self.capture.frames_in))
        while len(self.frames_in_samples) > 2 and now - self.frames_in_samples[0][0] > 5:
            self.frames_in_samples.popleft()
        (t0, n0), (t1, n1) = self.frames_in_samples[0], self.frames_in_samples[-1]
        return round((n1 - n0) / (t1 - t0), 2) if t1 > t0 else 0.0

    def telemetry(self, now: float) -> dict[str, Any]:
        size = self.capture.size
        return {
            "fps_in": self._fps_in(now), "fps_proc": self.proc_rate.per_second(now),
            "latency_ms": self.latency.summary(), "queue_size": len(self.frames),
            "frames_in": self.capture.frames_in, "frames_processed": self.frames_processed,
            "dropped_frames": self.frames.dropped + self.rate_limited, "reconnects": self.capture.reconnects,
            "last_error": self.capture.last_error, "pid": os.getpid(),
            "width": size[0] if size else None, "height": size[1] if size else None,
            "zone_counts": self.counter.zone_counts, "line_counts": self.counter.line_counts,
        }

    def close(self) -> None:
        self.capture.stop()
        close_quietly(self.osc)


def _fields(spec: WorkerSpec) -> dict[str, Any]:
    return {name: getattr(spec, name) for name in WorkerSpec.__slots__}
