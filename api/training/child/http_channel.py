"""A training child that reports over HTTP, through the public ingest API, instead of a pipe (cluster workers).

`HttpChannel` has the pipe Channel's interface (send a contract message, log a line), so runner.train works
unchanged. One sender thread keeps the order of what was sent; each request carries a batch_id and is retried
with backoff (tenacity), so a retry after a lost answer is stored once. Log lines are gathered for a moment and
sent as one batch. Every answer says whether someone pressed Stop; that sets the stop event the trainer polls."""

from __future__ import annotations

import logging
import queue
import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
from tenacity import retry, retry_if_exception, stop_after_delay, wait_exponential_jitter

from api.training.child.contract import Batch, Checkpoint, Epoch, FinalMetrics, Log, Message, Started

logger = logging.getLogger(__name__)
_LOG_FLUSH_S = 0.5
_MAX_LINES = 500


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500 or exc.response.status_code == 429
    return isinstance(exc, httpx.TransportError)


class IngestClient:
    """The ingest routes of one session, authenticated with the run's session token."""

    def __init__(self, base_url: str, token: str, session_id: int, *, retry_for_s: float = 300.0) -> None:
        self.session_id = session_id
        self.http = httpx.Client(base_url=f"{base_url.rstrip('/')}/api/v1", timeout=60,
                                 headers={"Authorization": f"Bearer {token}"})
        self.stop_requested = threading.Event()
        self._retrying = retry(retry=retry_if_exception(_retryable), stop=stop_after_delay(retry_for_s),
                               wait=wait_exponential_jitter(initial=0.5, max=15), reraise=True)

    def post(self, route: str, body: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        def once() -> dict[str, Any]:
            response = self.http.post(f"/sessions/{self.session_id}/{route}", json=body, **kwargs)
            response.raise_for_status()
            return response.json()

        answer = self._retrying(once)()
        if answer.get("stop_requested"):
            self.stop_requested.set()
        return answer

    def upload(self, path: Path, *, name: str, role: str) -> dict[str, Any]:
        def once() -> dict[str, Any]:
            with path.open("rb") as file:
                response = self.http.post(f"/sessions/{self.session_id}/artifacts", files={"file": (name, file)},
                                          data={"name": name, "role": role})
            response.raise_for_status()
            return response.json()

        return self._retrying(once)()

    def download(self, url: str, target: Path) -> int:
        """GET `url` into `target`, resuming a broken transfer with a Range request; returns bytes fetched."""
        partial = target.with_name(target.name + ".part")

        def once() -> int:
            have = partial.stat().st_size if partial.exists() else 0
            headers = {"Range": f"bytes={have}-"} if have else {}
            with self.http.stream("GET", url, headers=headers) as response:
                if response.status_code == 416:  # we have it all already
                    return 0
                response.raise_for_status()
                mode = "ab" if response.status_code == 206 else "wb"
                fetched = 0
                with partial.open(mode) as sink:
                    for chunk in response.iter_bytes(1 << 20):
                        sink.write(chunk)
                        fetched += len(chunk)
                return fetched

        fetched = self._retrying(once)()
        partial.replace(target)
        return fetched

    def finish(self, status: str, error: str | None = None) -> None:
        self.post("finish", {"status": status, "error": error})


class HttpChannel:
    """The Channel of a cluster worker: contract messages become ingest requests, in order, on one thread."""

    def __init__(self, client: IngestClient) -> None:
        self.client = client
        self._queue: queue.Queue[Message | None] = queue.Queue()
        self._epochs = 0
        self._lines: list[dict[str, Any]] = []
        self.closed = False
        self._thread = threading.Thread(target=self._run, daemon=True, name="ingest-sender")
        self._thread.start()

    def send(self, message: Message) -> None:
        if not self.closed:
            self._queue.put(message)

    def log(self, message: str, level: str = "INFO") -> None:
        self.send(Log(level=level, message=message))

    def close(self) -> None:
        """Send everything queued, then stop the thread (blocking)."""
        self._queue.put(None)
        self._thread.join()
        self.closed = True

    def _run(self) -> None:
        while True:
            try:
                message: Message | None | str = self._queue.get(timeout=_LOG_FLUSH_S)
            except queue.Empty:
                message = "tick"
            try:
                if isinstance(message, str) or message is None:
                    self._flush_lines()
                else:
                    self._deliver(message)
            except Exception as exc:  # the server stayed away past the retries: the run goes on, the server decides
                logger.warning("a report was lost: %r", exc)
            if message is None:
                return

    def _deliver(self, message: Message) -> None:
        if isinstance(message, Log):
            self._lines.append({"message": message.message[:4000], "level": message.level, "ts": message.ts})
            if len(self._lines) >= _MAX_LINES:
                self._flush_lines()
            return
        self._flush_lines()  # lines before the event they led to
        post, batch_id = self.client.post, uuid.uuid4().hex
        match message:
            case Started(epochs=epochs, start_epoch=start, batches=batches):
                self._epochs = epochs
                post("progress", {"epoch": start, "epochs": epochs, "batch": 0, "batches": batches})
            case Batch(epoch=epoch, batch=batch, batches=batches, losses=losses):
                step = (epoch - 1) * batches + batch
                points = [{"key": f"batch/{k}", "value": v, "step": step, "epoch": epoch, "ts": message.ts}
                          for k, v in losses.items()]
                if points:
                    post("metrics", {"batch_id": batch_id, "points": points})
                post("progress", {"epoch": epoch - 1, "epochs": self._epochs or epoch, "batch": batch, "batches": batches})
            case Epoch(epoch=epoch, epochs=epochs, metrics=metrics, fitness=fitness):
                points = [{"key": k, "value": v, "step": epoch, "epoch": epoch, "ts": message.ts} for k, v in metrics.items()]
                if points:
                    post("metrics", {"batch_id": batch_id, "points": points})
                post("progress", {"epoch": epoch, "epochs": epochs, "fitness": fitness})
            case Checkpoint(path=path):
                self.client.upload(Path(path), name="resume.pt", role="checkpoint")
            case FinalMetrics():
                pass  # the best epoch's metrics are already the run's best_metrics (fitness picks them)
            case _:
                logger.warning("not reported over HTTP: %r", message)

    def _flush_lines(self) -> None:
        if self._lines:
            lines, self._lines = self._lines, []
            self.client.post("logs", {"batch_id": uuid.uuid4().hex, "lines": lines})
