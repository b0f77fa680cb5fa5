"""What a run left behind, for reading: metric history, log lines (also followed live) and the chart."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from api.core.pools import Pool
from api.training.charts import render_training_chart
from api.training.log_store import LogStore
from api.training.metrics_store import MetricsStore
from api.training.schemas import LogLine, MetricPoint, SessionRead, SessionStatus
from api.training.store import SessionStore

FOLLOW_POLL_S = 0.5


class RunHistory:
    def __init__(self, *, store: SessionStore, metrics: MetricsStore, logs: LogStore,
                 flush: Callable[[], Awaitable[None]], render: Pool) -> None:
        self._store, self._metrics, self._logs, self._flush = store, metrics, logs, flush
        self._render = render

    async def metric_points(self, *, session_id: int, key: str | None, epoch_from: int | None, epoch_to: int | None,
                            limit: int, offset: int) -> tuple[list[MetricPoint], int]:
        return await self._metrics.history(session_id=session_id, key=key, epoch_from=epoch_from, epoch_to=epoch_to,
                                           limit=limit, offset=offset)

    async def metric_columns(self, *, session_id: int, key: str, fields: Sequence[str], epoch_from: int | None,
                             epoch_to: int | None, limit: int, offset: int) -> str:
        return await self._metrics.columns(session_id=session_id, key=key, fields=fields, epoch_from=epoch_from,
                                           epoch_to=epoch_to, limit=limit, offset=offset)

    async def log_lines(self, *, session_id: int, level: str | None, since: float | None, limit: int,
                        offset: int, as_of: int | None = None) -> tuple[list[LogLine], int]:
        return await self._logs.query(session_id=session_id, level=level, since=since, limit=limit, offset=offset,
                                      as_of=as_of)

    async def follow_logs(self, session_id: int, level: str | None, since: float | None,
                          allowed: Callable[[], bool] = lambda: True) -> AsyncIterator[str]:
        """Server-sent events: every new line, keep-alives while the run waits, `end` when it is over.
        Stops with `event: revoked` as soon as `allowed()` is false (the key was revoked)."""
        last_id = 0
        while True:
            if not allowed():
                yield "event: revoked\ndata: {}\n\n"
                return
            items, _ = await self._logs.query(session_id=session_id, level=level, since=since, after_id=last_id,
                                              limit=500)
            for line in items:
                last_id = line.id
                yield f"id: {line.id}\nevent: log\ndata: {line.model_dump_json()}\n\n"
            if not items:
                session = await self._store.get(session_id)
                if session.status not in (SessionStatus.running, SessionStatus.queued):
                    yield f"event: end\ndata: {json.dumps({'status': session.status.value})}\n\n"
                    return
                yield ": keep-alive\n\n"
                await asyncio.sleep(FOLLOW_POLL_S)

    async def chart(self, session: SessionRead) -> bytes:
        """A PNG of losses and validation metrics per epoch, with what is still buffered written first."""
        await self._flush()
        series = await self._metrics.epoch_series(session.id)
        title = f"#{session.id} {session.name} ({session.status.value}, {session.progress.epoch}/{session.progress.epochs})"
        return await self._render.run(render_training_chart, series, title)
