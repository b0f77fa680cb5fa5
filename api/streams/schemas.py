"""Request and response shapes of streams: definitions, the settings that apply live, telemetry."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.core.schemas import MAX_ID

Tracker = Literal["bytetrack", "botsort"]
ChannelFormat = Literal["per_slot", "array"]
StreamStatus = Literal["starting", "running", "reconnecting", "stopped", "failed"]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Point = tuple[Unit, Unit]
NAME_PATTERN = r"^[^\x00-\x1f\x7f\s]([^\x00-\x1f\x7f]*[^\x00-\x1f\x7f\s])?$"  # no control chars, no outer spaces
Name = Annotated[str, Field(min_length=1, max_length=100, pattern=NAME_PATTERN)]
ClassName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")]
Device = Annotated[str, Field(pattern=r"^(cpu|auto|[0-9]{1,2})$", description="cpu, auto or a GPU index.")]
SOURCE_SCHEMES = ("video:", "rtsp://", "rtsps://", "http://", "https://", "device:")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OscSink(Strict):
    """OSC over UDP (TouchDesigner's OSC In CHOP/DAT listens for these)."""

    host: str = Field("127.0.0.1", description="IP address or host name of the OSC receiver.")
    port: int = Field(7000, ge=1, le=65535)
    address_prefix: str = Field("/yolo/", max_length=100, description="Prefix of every OSC address, e.g. /yolo/.")
    channel_format: ChannelFormat = Field(
        "per_slot", description="per_slot: {prefix}p1_x, p1_y, ... one value each; array: {prefix}tracks, one message "
                                "per frame with [slot, id, cls, conf, x, y, w, h] per track.")

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            if not _HOSTNAME.match(value) or value.replace(".", "").isdigit():  # 256.256.256.256 is no host name
                raise ValueError("not an IP address or host name") from None
        return value

    @field_validator("address_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        if not value.startswith("/") or any(c in value for c in " #*,?[]{}"):
            raise ValueError("must start with / and hold no spaces or OSC pattern characters (#*,?[]{})")
        return value


class Sinks(Strict):
    osc: OscSink | None = None


class Zone(Strict):
    name: Name
    points: list[Point] = Field(min_length=3, max_length=64, description="Polygon corners, x and y in 0..1.")


class Line(Strict):
    """A counting line from `start` to `end`. Standing on `start` looking towards `end` in the image as shown (x right,
    y down), moving from your left to your right is `in`: for a line from (0.5, 0) to (0.5, 1), moving right to left
    across the image is `in`; for (0, 0.5) to (1, 0.5), moving down is `in`. Swap start and end to swap them."""

    name: Name
    start: Point
    end: Point

    @model_validator(mode="after")
    def _not_a_point(self) -> Line:
        if self.start == self.end:
            raise ValueError("start and end must differ")
        return self


class TrackingSettings(Strict):
    """What a running stream picks up without a restart of its worker (a new model, tracker or device starts a fresh
    predictor, so track ids start again; a new source reopens only the source)."""

    conf: float = Field(0.25, ge=0.0, le=1.0, description="Confidence threshold.")
    iou: float = Field(0.7, ge=0.0, le=1.0, description="NMS IoU threshold.")
    classes: list[ClassName] | None = Field(
        None, max_length=1000, description="Class names to track (default: all of the model's).")
    roi: tuple[Unit, Unit, Unit, Unit] | None = Field(None, description="[x1, y1, x2, y2] in 0..1: only this part "
                                                                        "of the frame is searched.")
    period_frames: int = Field(1, ge=1, le=1000, description="Infer on every n-th captured frame.")
    max_fps: float | None = Field(None, gt=0, le=1000, description="Most frames processed per second.")
    tracker: Tracker = "bytetrack"
    objects_max: int = Field(8, ge=1, le=256, description="Slots p1..pN that tracks are mapped to.")
    persistence_ms: int = Field(1000, ge=0, le=600_000, description="How long a lost track keeps its slot.")
    zones: list[Zone] = Field(default_factory=list, max_length=64)
    lines: list[Line] = Field(default_factory=list, max_length=64)
    sinks: Sinks = Field(default_factory=Sinks)
    device: Device = "cpu"

    @field_validator("roi")
    @classmethod
    def _roi(cls, value: tuple[float, float, float, float] | None) -> tuple[float, float, float, float] | None:
        if value is not None and not (value[0] < value[2] and value[1] < value[3]):
            raise ValueError("must be [x1, y1, x2, y2] with x1 < x2 and y1 < y2")
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> TrackingSettings:
        for kind in ("zones", "lines"):
            names = [item.name for item in getattr(self, kind)]
            if len(names) != len(set(names)):
                raise ValueError(f"{kind} names must be unique")
        return self


def check_source(value: str) -> str:
    if not value.startswith(SOURCE_SCHEMES):
        raise ValueError(f"must start with one of {', '.join(SOURCE_SCHEMES)}")
    if value.startswith(("video:", "device:")) and not re.fullmatch(r"(video:[1-9]\d{0,17}|device:\d{1,3})", value):
        raise ValueError("video:<id> or device:<n> with a number")
    if any(c == " " or c == "\x7f" or c < " " for c in value):
        raise ValueError("may not hold spaces or control characters")
    return value


Source = Annotated[str, Field(min_length=6, max_length=2000, description="video:<id>, rtsp://, rtsps://, http(s)://, "
                                                                          "or device:<n> (admins only).")]


class StreamCreate(TrackingSettings):
    name: Name
    source: Source
    model: int = Field(ge=1, le=MAX_ID, description="Id of a detection model.")
    enabled: bool = Field(True, description="Start it now, and again whenever the server starts.")

    _source = field_validator("source")(classmethod(lambda cls, v: check_source(v)))


class StreamUpdate(Strict):
    """Every field optional; what is sent replaces what was there (zones, lines and sinks as a whole)."""

    name: Name | None = None
    source: Source | None = None
    model: int | None = Field(None, ge=1, le=MAX_ID)
    enabled: bool | None = None
    conf: float | None = Field(None, ge=0.0, le=1.0)
    iou: float | None = Field(None, ge=0.0, le=1.0)
    classes: list[ClassName] | None = Field(None, max_length=1000)
    roi: tuple[Unit, Unit, Unit, Unit] | None = None
    period_frames: int | None = Field(None, ge=1, le=1000)
    max_fps: float | None = Field(None, gt=0, le=1000)
    tracker: Tracker | None = None
    objects_max: int | None = Field(None, ge=1, le=256)
    persistence_ms: int | None = Field(None, ge=0, le=600_000)
    zones: list[Zone] | None = Field(None, max_length=64)
    lines: list[Line] | None = Field(None, max_length=64)
    sinks: Sinks | None = None
    device: Device | None = None

    @field_validator("source")
    @classmethod
    def _source(cls, value: str | None) -> str | None:
        return None if value is None else check_source(value)


class LatencyStats(BaseModel):
    p50: float | None = None
    p95: float | None = None


class StreamTelemetry(BaseModel):
    fps_in: float = 0.0
    fps_proc: float = 0.0
    latency_ms: dict[str, LatencyStats] = Field(
        default_factory=dict, description="Per stage: capture_to_queue (a frame's wait for the model), inference, "
                                          "tracking, publish, and end_to_end (capture to OSC sent).")
    queue_size: int = 0
    frames_in: int = 0
    frames_processed: int = 0
    dropped_frames: int = 0
    reconnects: int = 0
    restarts: int = 0
    last_error: str | None = None
    pid: int | None = None
    width: int | None = None
    height: int | None = None
    zone_counts: dict[str, dict[str, int]] = Field(default_factory=dict, description="zone -> class -> objects in it")
    line_counts: dict[str, dict[str, dict[str, int]]] = Field(
        default_factory=dict, description="line -> class -> {in, out} crossings")


class StreamRead(TrackingSettings):
    id: int
    name: str
    source: str = Field(description="With any password in the URL masked.")
    model_id: int
    enabled: bool
    status: StreamStatus
    telemetry: StreamTelemetry
    created_at: float
    created_by: int | None = None
    updated_at: float | None = None


class StreamList(BaseModel):
    items: list[StreamRead]
    total: int


class TrackRead(BaseModel):
    id: int
    cls: int
    name: str
    conf: float
    box: tuple[float, float, float, float] = Field(description="x1, y1, x2, y2 in 0..1 of the frame")
    slot: int | None = Field(description="1..objects_max, or null when every slot is taken")


class StreamTracks(BaseModel):
    stream_id: int
    frame: int | None
    ts: float | None
    tracks: list[TrackRead]


def settings_of(body: BaseModel) -> dict[str, Any]:
    """The TrackingSettings part of a create/read body, as stored in the `settings` column."""
    return TrackingSettings.model_validate(body.model_dump(include=set(TrackingSettings.model_fields))).model_dump(
        mode="json")
