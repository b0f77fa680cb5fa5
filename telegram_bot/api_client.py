"""The bot's only way to the server: typed calls over one httpx.AsyncClient, errors as ApiError."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError
from tenacity import before_sleep_log, retry, retry_if_exception, stop_after_attempt, wait_exponential

from telegram_bot.schemas import (
    ClusterRead,
    DatasetList,
    DatasetRead,
    ErrorResponse,
    EvaluationRead,
    Health,
    LogList,
    ModelExport,
    ModelList,
    ModelRead,
    QueueRead,
    RecognitionList,
    RecognitionRead,
    RecognitionSummary,
    SessionList,
    SessionRead,
    StreamList,
    StreamRead,
    SystemSample,
)

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
CONNECT_RETRIES = 3  # httpcore backs off 0.5 s, 1 s between them
M = TypeVar("M", bound=BaseModel)
_health = TypeAdapter(Health)


@dataclass
class ApiError(Exception):
    """The server's error body: {"error": {"code", "message", "details"}}."""

    status: int
    code: str
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"

    def readable(self) -> str:
        """The message plus the per-field reasons of a 422, for a chat reply."""
        fields = self.details.get("fields") if isinstance(self.details, Mapping) else None
        if not fields:
            return self.message
        reasons = "; ".join(f"{f.get('field', '').removeprefix('body.')}: {f.get('message', '')}" for f in fields)
        return f"{self.message} ({reasons})"


class ApiUnavailable(ApiError):
    """The server could not be reached (or said it is unavailable)."""


class ApiNotFound(ApiError):
    pass


class ApiForbidden(ApiError):
    pass


def _error_from(response: httpx.Response) -> ApiError:
    try:
        body = ErrorResponse.model_validate_json(response.content).error
        code, message, details = body.code, body.message, body.details or {}
    except ValidationError:
        code, message, details = "http_error", response.text[:200] or response.reason_phrase, {}
    kind = {404: ApiNotFound, 401: ApiForbidden, 403: ApiForbidden, 503: ApiUnavailable}.get(response.status_code, ApiError)
    return kind(response.status_code, code, message, details)


def _answer_lost(exc: BaseException) -> bool:
    """The request may have reached the server: only a read is safe to send again. (Connecting is the transport's.)"""
    return isinstance(exc, httpx.TransportError) and not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)


class ApiClient:
    """Typed methods for the endpoints the bot uses; `for_user` attributes calls to a Telegram user."""

    def __init__(self, http: httpx.AsyncClient, *, on_behalf_of: str | None = None) -> None:
        self._http = http
        self._on_behalf_of = on_behalf_of

    @classmethod
    def create(cls, base_url: str, api_key: str, *, timeout: float = 60.0) -> ApiClient:
        http = httpx.AsyncClient(
            base_url=base_url.rstrip("/") + API_PREFIX, headers={"X-API-Key": api_key},
            timeout=httpx.Timeout(timeout, connect=5.0), transport=httpx.AsyncHTTPTransport(retries=CONNECT_RETRIES),
        )
        return cls(http)

    def for_user(self, user_id: int) -> ApiClient:
        return ApiClient(self._http, on_behalf_of=f"tg:{user_id}")

    @property
    def base_url(self) -> str:
        return str(self._http.base_url)

    @property
    def api_key(self) -> str:
        return self._http.headers["X-API-Key"]

    async def close(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-On-Behalf-Of": self._on_behalf_of} if self._on_behalf_of else {}
        try:
            if method == "GET":
                response = await self._read(path, headers=headers, **kwargs)
            else:
                response = await self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise ApiUnavailable(0, "server_unavailable", f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            raise _error_from(response)
        return response

    @retry(retry=retry_if_exception(_answer_lost), wait=wait_exponential(multiplier=0.3, max=2.0),
           stop=stop_after_attempt(4), before_sleep=before_sleep_log(logger, logging.INFO), reraise=True)
    async def _read(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self._http.get(path, **kwargs)

    async def _parsed(self, model: type[M], method: str, path: str, **kwargs: Any) -> M:
        return model.model_validate_json((await self._request(method, path, **kwargs)).content)

    # --- server and sessions
    async def health(self) -> Health:
        return _health.validate_json((await self._request("GET", "/health")).content)

    async def system(self) -> SystemSample:
        return await self._parsed(SystemSample, "GET", "/system")

    async def cluster(self) -> ClusterRead:
        return await self._parsed(ClusterRead, "GET", "/cluster")

    async def queue(self) -> QueueRead:
        return await self._parsed(QueueRead, "GET", "/queue")

    async def sessions(self, *, limit: int = 10, statuses: tuple[str, ...] = (), offset: int = 0,
                       as_of: int | None = None) -> SessionList:
        params: dict[str, Any] = {"limit": limit, "offset": offset, "status": list(statuses)}
        return await self._parsed(SessionList, "GET", "/sessions", params={**params, **({"as_of": as_of} if as_of else {})})

    async def set_priority(self, session_id: int, priority: int) -> SessionRead:
        return await self._parsed(SessionRead, "PATCH", f"/sessions/{session_id}", json={"priority": priority})

    async def delete_session(self, session_id: int) -> None:
        await self._request("DELETE", f"/sessions/{session_id}")

    async def session(self, session_id: int) -> SessionRead:
        return await self._parsed(SessionRead, "GET", f"/sessions/{session_id}")

    async def create_session(self, **fields: Any) -> SessionRead:
        return await self._parsed(SessionRead, "POST", "/sessions", json=fields)

    async def stop_session(self, session_id: int) -> SessionRead:
        return await self._parsed(SessionRead, "POST", f"/sessions/{session_id}/stop")

    async def resume_session(self, session_id: int) -> SessionRead:
        return await self._parsed(SessionRead, "POST", f"/sessions/{session_id}/resume")

    async def logs(self, session_id: int, *, limit: int, offset: int) -> LogList:
        return await self._parsed(LogList, "GET", f"/sessions/{session_id}/logs", params={"limit": limit, "offset": offset})

    async def chart(self, session_id: int) -> bytes:
        return (await self._request("GET", f"/sessions/{session_id}/chart.png")).content

    # --- registries
    async def datasets(self, *, limit: int = 20, task: str | None = None) -> DatasetList:
        params: dict[str, Any] = {"limit": limit, **({"task": task} if task else {})}
        return await self._parsed(DatasetList, "GET", "/datasets", params=params)

    async def dataset(self, dataset_id: int) -> DatasetRead:
        return await self._parsed(DatasetRead, "GET", f"/datasets/{dataset_id}")

    async def upload_dataset(self, filename: str, content: bytes) -> DatasetRead:
        return await self._parsed(DatasetRead, "POST", "/datasets", files={"file": (filename, content, "application/zip")},
                                  data={"name": filename.rsplit(".", 1)[0][:100]})

    async def models(self, *, limit: int = 20, task: str | None = None) -> ModelList:
        params: dict[str, Any] = {"limit": limit, **({"task": task} if task else {})}
        return await self._parsed(ModelList, "GET", "/models", params=params)

    async def model(self, model_id: int) -> ModelRead:
        return await self._parsed(ModelRead, "GET", f"/models/{model_id}")

    async def download_model(self, model_id: int, *, fmt: str = "pt") -> bytes:
        return (await self._request("GET", f"/models/{model_id}/download", params={"format": fmt})).content

    async def upload_model(self, filename: str, content: bytes) -> ModelRead:
        return await self._parsed(ModelRead, "POST", "/models", files={"file": (filename, content, "application/octet-stream")},
                                  data={"name": filename.rsplit(".", 1)[0][:100]})

    async def delete_model(self, model_id: int) -> None:
        await self._request("DELETE", f"/models/{model_id}")

    async def export_model(self, model_id: int) -> ModelExport:
        return await self._parsed(ModelExport, "POST", f"/models/{model_id}/export", params={"format": "onnx"})

    async def evaluate_model(self, model_id: int, dataset_id: int) -> EvaluationRead:
        return await self._parsed(EvaluationRead, "POST", f"/models/{model_id}/evaluate", json={"dataset": dataset_id})

    async def evaluation(self, evaluation_id: int) -> EvaluationRead:
        return await self._parsed(EvaluationRead, "GET", f"/evaluations/{evaluation_id}")

    # --- recognition
    async def recognize(
        self, images: list[tuple[str, bytes]], *, model_id: int, conf: float,
        expected_count: int | None = None, kit: Mapping[str, int] | None = None,
    ) -> RecognitionRead:
        files = [("images", (name, data, "application/octet-stream")) for name, data in images]
        form: dict[str, str] = {"model": str(model_id), "conf": str(conf)}
        if kit:
            form["kit"] = json.dumps(dict(kit))
        elif expected_count is not None:
            form["expected_count"] = str(expected_count)
        return await self._parsed(RecognitionRead, "POST", "/recognitions", files=files, data=form)

    async def recognitions(self, *, user: str, limit: int, offset: int, as_of: int | None = None) -> RecognitionList:
        params: dict[str, Any] = {"user": user, "limit": limit, "offset": offset, **({"as_of": as_of} if as_of else {})}
        return await self._parsed(RecognitionList, "GET", "/recognitions", params=params)

    async def recognition(self, recognition_id: int) -> RecognitionRead:
        return await self._parsed(RecognitionRead, "GET", f"/recognitions/{recognition_id}")

    async def recognition_summary(self) -> RecognitionSummary:
        return await self._parsed(RecognitionSummary, "GET", "/recognitions/summary", params={"by": "user"})

    async def explain(self, recognition_id: int, image: int) -> bytes:
        return (await self._request("GET", f"/recognitions/{recognition_id}/images/{image}/explain")).content

    # --- streams
    async def streams(self, *, limit: int = 20) -> StreamList:
        return await self._parsed(StreamList, "GET", "/streams", params={"limit": limit})

    async def stream(self, stream_id: int) -> StreamRead:
        return await self._parsed(StreamRead, "GET", f"/streams/{stream_id}")

    async def start_stream(self, stream_id: int) -> StreamRead:
        return await self._parsed(StreamRead, "POST", f"/streams/{stream_id}/start")

    async def stop_stream(self, stream_id: int) -> StreamRead:
        return await self._parsed(StreamRead, "POST", f"/streams/{stream_id}/stop")

    async def stream_preview(self, stream_id: int) -> bytes:
        """The latest annotated frame (JPEG); ApiError stream_not_running (409) or no_preview (404) when there is none."""
        return (await self._request("GET", f"/streams/{stream_id}/preview.jpg")).content

    async def fetch(self, url: str) -> bytes:
        """GET a URL the server returned (e.g. an annotated image), given with or without /api/v1."""
        return (await self._request("GET", url.removeprefix(API_PREFIX))).content
