"""Health (no auth) and Prometheus metrics."""

from __future__ import annotations

import time

from fastapi import APIRouter
from fastapi.responses import Response

from api import __version__
from api.auth.schemas import Role
from api.core.responses import errors
from api.core.schemas import Health
from api.dependencies import ServicesDep, require_role

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
async def get_health(services: ServicesDep) -> Health:
    """Liveness and version; needs no API key."""
    cluster, _error = services.cluster.state()
    return Health(status="ok", version=__version__, uptime_s=round(time.time() - services.started_at, 1), database="ok",
                  executor=services.settings.executor, cluster=cluster)


@router.get(
    "/metrics",
    dependencies=[require_role(Role.viewer)],
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}, **errors()},
    response_class=Response,
)
async def get_metrics(services: ServicesDep) -> Response:
    """Prometheus metrics: HTTP requests and latency by route, system gauges, event-loop lag."""
    return Response(services.telemetry.render(), media_type="text/plain; version=0.0.4; charset=utf-8")
