"""The bot's own view of the server's responses: only what the bot reads, so new server fields break nothing."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12


class ApiModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ErrorDetail(ApiModel):
    code: str
    message: str
    details: dict[str, Any] | None = None


class ErrorResponse(ApiModel):
    error: ErrorDetail


class Health(TypedDict):
    """A TypedDict, not a model: callers read it like the JSON (`health()["status"]`)."""

    status: str


class SessionProgress(ApiModel):
    epoch: int
    epochs: int
    percent: float
    eta_s: float | None = None


class SessionRead(ApiModel):
    id: int
    name: str
    kind: str = "train"  # evaluate: a queued model evaluation
    model: str
    priority: int = 0
    created_at: float = 0.0
    on_behalf_of: str | None = None
    status: str  # a plain string: a state added to the server must not make the bot fail to parse the session
    progress: SessionProgress
    latest_metrics: dict[str, float] = Field(default_factory=dict)
    best_metrics: dict[str, float] = Field(default_factory=dict)
    stop_requested: bool = False
    error: str | None = None
    error_tail: list[str] | None = None
    result_model_id: int | None = None


class SessionList(ApiModel):
    items: list[SessionRead]
    total: int


class QueueRead(ApiModel):
    running: list[SessionRead]
    queued: list[SessionRead]


class LogLine(ApiModel):
    level: str
    message: str


class LogList(ApiModel):
    items: list[LogLine]
    total: int


class DatasetInfo(ApiModel):
    images: dict[str, int]


class DatasetRead(ApiModel):
    id: int
    name: str
    task: str
    classes: list[str]
    info: DatasetInfo


class DatasetList(ApiModel):
    items: list[DatasetRead]
    total: int


class ModelRead(ApiModel):
    id: int
    name: str
    task: str
    architecture: str
    classes: list[str] = Field(default_factory=list)
    metrics: dict[str, float] = Field(default_factory=dict)
    source: str = ""
    session_id: int | None = None
    size_bytes: int


class ModelList(ApiModel):
    items: list[ModelRead]
    total: int


class GpuSample(ApiModel):
    index: int
    name: str
    utilization_percent: float | None = None
    memory_used_mb: float | None = None
    memory_total_mb: float | None = None
    temperature_c: float | None = None


class SystemSample(ApiModel):
    cpu_percent: float
    ram_used_mb: float
    ram_total_mb: float
    ram_percent: float
    disk_percent: float
    gpus: list[GpuSample] = Field(default_factory=list)


class NodeResources(ApiModel):
    cpus: float
    gpus: float


class ClusterNode(ApiModel):
    id: str
    head: bool = False
    total: NodeResources
    free: NodeResources | None = None
    sessions: list[int] = Field(default_factory=list)


class ClusterRead(ApiModel):
    executor: str
    state: str
    capacity: int
    error: str | None = None
    nodes: list[ClusterNode] = Field(default_factory=list)


class ImageResult(ApiModel):
    index: int
    counts: dict[str, int]
    verdict: str
    found: int
    expected: int | None = None
    missing: dict[str, int] = Field(default_factory=dict)
    extra: dict[str, int] = Field(default_factory=dict)
    image_url: str


class RecognitionParams(ApiModel):
    conf: float


class RecognitionRead(ApiModel):
    id: int
    created_at: float = 0.0
    model_id: int | None
    params: RecognitionParams
    verdict: str | None  # None while an async batch (mode=async) is still running
    images: list[ImageResult]
    timings_ms: dict[str, float] = Field(default_factory=dict)


class StreamTelemetry(ApiModel):
    fps_proc: float = 0.0
    last_error: str | None = None
    zone_counts: dict[str, dict[str, int]] = Field(default_factory=dict)  # zone -> class -> objects in it
    line_counts: dict[str, dict[str, dict[str, int]]] = Field(default_factory=dict)  # line -> class -> {in, out}


class StreamRead(ApiModel):
    id: int
    name: str
    enabled: bool
    status: str  # a plain string, as SessionRead's
    telemetry: StreamTelemetry = Field(default_factory=StreamTelemetry)


class StreamList(ApiModel):
    items: list[StreamRead]
    total: int


class RecognitionList(ApiModel):
    items: list[RecognitionRead]
    total: int


class SummaryGroup(ApiModel):
    key: str | int | None
    count: int
    complete: int
    incomplete: int = 0
    unchecked: int = 0


class RecognitionSummary(ApiModel):
    groups: list[SummaryGroup]


class EvaluationRead(ApiModel):
    id: int
    session_id: int
    status: str
    model_id: int | None
    split: str
    metrics: dict[str, float] | None = None
    per_class: dict[str, dict[str, float]] | None = None
    error: str | None = None


class ModelExport(ApiModel):
    model_id: int
    format: str
    imgsz: int
    size_bytes: int
    download_url: str


class EventData(ApiModel):
    """The fields the bot reads; session.status carries the whole session, kept as extra fields."""

    model_config = ConfigDict(extra="allow")

    id: int | None = None
    session_id: int | None = None
    stream_id: int | None = None
    status: str | None = None  # stream.status
    reason: str | None = None
    line: str | None = None  # stream.crossing
    class_name: str | None = None
    direction: str | None = None


class ServerEvent(ApiModel):
    """One message of WS /events: which session it concerns, or a stream's status change or line crossing."""

    type: str = ""
    data: EventData = Field(default_factory=EventData)

    @property
    def session_id(self) -> int | None:
        return self.data.session_id if self.data.session_id is not None else self.data.id
