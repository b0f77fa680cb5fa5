"""What the server and a stream's worker process say to each other. Plain dataclasses: they cross a pipe.

The worker knows nothing of the server: it gets a WorkerSpec (what to open, which model, the settings) and
reports typed messages. The server sends a new WorkerSpec to change settings live; the worker reopens only the
source or the model when those changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

SourceKind = Literal["video", "url", "device"]


@dataclass(frozen=True, slots=True)
class SourceSpec:
    kind: SourceKind
    target: str  # a file path (video), a URL, or a camera index as text (device)
    label: str  # what logs and errors may show: never a password


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    stream_id: int
    source: SourceSpec
    model_path: str
    settings: dict[str, Any]  # TrackingSettings.model_dump(mode="json")
    config_dir: str  # Ultralytics' offline settings dir
    threads: int = 0  # torch CPU threads (0 = all cores)
    preview_fps: float = 5.0


# -- worker -> server --------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class StatusChanged:
    status: Literal["starting", "running", "reconnecting", "failed"]
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class TelemetryReport:
    """Sent about once a second by the pipeline: also the worker's heartbeat."""

    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class FrameTracks:
    frame: int
    ts: float  # when the frame was captured (time.time())
    width: int
    height: int
    tracks: list[dict[str, Any]]  # id, cls, name, conf, box (x1, y1, x2, y2 in 0..1), slot
    zone_counts: dict[str, dict[str, int]] = field(default_factory=dict)
    line_counts: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PreviewFrame:
    frame: int
    jpeg: bytes


@dataclass(frozen=True, slots=True)
class LineCrossed:
    line: str
    track_id: int
    class_name: str
    direction: Literal["in", "out"]
    slot: int | None
    frame: int
    ts: float


@dataclass(frozen=True, slots=True)
class SettingsRefused:
    """A live change the worker could not apply (a model that does not load): it keeps the previous one."""

    reason: str


WorkerMessage = StatusChanged | TelemetryReport | FrameTracks | PreviewFrame | LineCrossed | SettingsRefused
