"""create_app(settings): the FastAPI app; its lifespan opens the DB and starts background services."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psutil
from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from api import __version__
from api.audit import router as audit
from api.audit.middleware import AuditMiddleware
from api.audit.store import AuditStore
from api.audit.trail import AuditTrail
from api.auth import router as auth
from api.auth.gate import BodyGate
from api.auth.lockout import LockoutPolicy
from api.auth.schemas import Role
from api.auth.service import AuthManager
from api.auth.store import AttemptStore, KeyStore
from api.container import Services
from api.core import error_handlers as errors
from api.core.database import Database
from api.core.events import EventBus
from api.core.http import API_PREFIX
from api.core.isolated import Limits
from api.core.log_redaction import install_redaction
from api.core.middleware import RequestGuard, SecurityHeaders
from api.core.offline import apply_offline_environment
from api.core.periodic import every
from api.core.pools import Pools
from api.core.settings import Settings
from api.core.storage_sweep import sweep_storage
from api.core.telemetry import Telemetry
from api.recognition import evaluations_router as evaluations
from api.recognition import kits_router as kits
from api.recognition import router as recognitions
from api.recognition import summary_router as summary
from api.recognition.batch_store import BatchStore
from api.recognition.batches import RecognitionBatches
from api.recognition.batching import batching_gauges
from api.recognition.evaluation_store import EvaluationStore
from api.recognition.kits_service import KitService
from api.recognition.kits_store import KitStore
from api.recognition.service import Recognizer
from api.recognition.store import RecognitionStore
from api.recognition.summary_service import RecognitionSummaries
from api.recognition.summary_store import SummaryStore
from api.registry.datasets import router as datasets
from api.registry.datasets.service import DatasetRegistry
from api.registry.datasets.store import DatasetStore
from api.registry.models import router as models
from api.registry.models.service import ModelRegistry
from api.registry.models.store import ModelStore
from api.streams import router as streams
from api.streams import videos_router as videos
from api.streams.config_service import StreamConfig
from api.streams.gauges import stream_gauges
from api.streams.service import StreamService
from api.streams.store import StreamStore
from api.streams.supervisor import StreamSupervisor
from api.streams.videos_service import VideoRegistry
from api.streams.videos_store import VideoStore
from api.system import events_router as events
from api.system import health_router as health
from api.system import router as system
from api.system.gauges import system_gauges
from api.system.monitor import GpuProbe, SystemMonitor
from api.system.store import SampleStore
from api.training import router as sessions
from api.training.cluster import router as cluster
from api.training.cluster.service import ClusterView
from api.training.executors.factory import make_executor
from api.training.history import RunHistory
from api.training.ingest import router as ingest
from api.training.ingest.service import IngestService
from api.training.ingest.store import IngestStore, TokenStore
from api.training.ingest.tokens import SessionTokens
from api.training.log_store import LogStore
from api.training.manager import SessionManager
from api.training.metrics_store import MetricsStore
from api.training.scheduler import Scheduler
from api.training.specs import SpecBuilder
from api.training.store import SessionStore
from api.ui.router import mount_dashboard

logger = logging.getLogger(__name__)

# The routes that take uploads (multipart files) and the least role that may send one; see api/auth/gate.py.
UPLOAD_ROUTES = {("POST", f"{API_PREFIX}/datasets"): Role.operator, ("POST", f"{API_PREFIX}/recognitions"): Role.operator,
                 ("POST", f"{API_PREFIX}/models"): Role.admin, ("POST", f"{API_PREFIX}/videos"): Role.operator}
UPLOAD_PATTERNS = [("POST", re.compile(rf"^{API_PREFIX}/sessions/[0-9]+/artifacts\Z"), Role.operator)]
_AUTH_ATTEMPT_RETENTION_S = 30 * 24 * 3600
_WARM_UP_TIMEOUT_S = 60

DESCRIPTION = """Training & recognition server: queue and run Ultralytics YOLO training, follow metrics and logs,
keep models and datasets, watch CPU/RAM/GPU, recognize objects on photos.

Every route but `/api/v1/health` needs an API key: `X-API-Key: <key>` or `Authorization: Bearer <key>`.
Errors always look like `{"error": {"code": "...", "message": "...", "details": {...}}}`."""


def announce_bootstrap_key(plain: str, base_url: str) -> None:
    """Printed once to the console (not to the log): the only time the plain key exists."""
    print(
        "\n" + "=" * 72 + "\nNo API key was configured, so an admin key was created. It is shown only now:\n\n"
        f"    {plain}\n\nUse it as:  curl -H 'X-API-Key: {plain}' {base_url}/api/v1/auth/me\n" + "=" * 72,
        flush=True,
    )


def create_app(settings: Settings, *, nvml: Any = None) -> FastAPI:
    """Build the app; `nvml` replaces the pynvml module (tests fake the GPU at that boundary only)."""
    telemetry = Telemetry()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await _start_services(settings, telemetry, nvml)
        app.state.services = services
        background = [
            asyncio.create_task(every(1.0, services.auth.flush_attempts, "auth-flush")),
            asyncio.create_task(every(3600, lambda: services.auth.prune_attempts(_AUTH_ATTEMPT_RETENTION_S), "auth-prune")),
            asyncio.create_task(telemetry.watch_loop_lag()),
            asyncio.create_task(services.models.revalidate_pending(), name="model-revalidation"),
            asyncio.create_task(services.models.resume_auto_exports(), name="auto-exports"),
        ]
        silent_s = settings.external_session_timeout_h * 3600
        background.append(asyncio.create_task(every(
            min(3600.0, silent_s / 4), lambda: services.ingest.fail_silent(silent_s), "silent-external-sessions")))
        if settings.audit_retention_days > 0:
            audit_retention_s = settings.audit_retention_days * 86400
            background.append(asyncio.create_task(every(
                3600, lambda: services.audit.prune(retention_s=audit_retention_s), "audit-retention", at_start=True)))
        if settings.recognition_image_retention_days > 0:
            retention_s = settings.recognition_image_retention_days * 86400
            background.append(asyncio.create_task(every(
                3600, lambda: services.recognizer.prune_images(retention_s=retention_s), "recognition-retention",
                at_start=True)))
        try:
            # Before the server says it is up: the first recognition then costs what a warm one does.
            await asyncio.wait_for(services.recognizer.warm_up(recent_models=min(2, settings.recognition_cache_size)),
                                   _WARM_UP_TIMEOUT_S)
        except TimeoutError:
            logger.warning("recognition warm-up took over %d s; the first requests will load the models", _WARM_UP_TIMEOUT_S)
        await _warm_routes(app)
        try:
            yield
        finally:
            for task in background:
                task.cancel()
            for task in background:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await _stop_services(services)

    app = FastAPI(
        title="Training & Recognition Server",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url="/docs",
        redoc_url="/redoc",
        redirect_slashes=False,  # a redirect built from the Host header sends clients wherever the header says
    )
    errors.install_error_handlers(app)
    # summary before recognitions: `/recognitions/{recognition_id}` would take "summary" for an id.
    for module in (health, auth, audit, system, datasets, models, sessions, ingest, cluster, evaluations, kits, summary,
                   recognitions, videos, streams, events):
        app.include_router(module.router, prefix=API_PREFIX)
    mount_dashboard(app)  # static files at /ui/, outside the API and its keys
    gate = BodyGate(lambda: app.state.services.auth, uploads=UPLOAD_ROUTES, upload_bytes=settings.max_upload_bytes,
                    json_bytes=settings.max_json_bytes, prefix=API_PREFIX, tokens=lambda: app.state.services.ingest.tokens,
                    upload_patterns=UPLOAD_PATTERNS)
    app.add_middleware(AuditMiddleware, trail=lambda: app.state.services.audit, prefix=API_PREFIX)
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_upload_bytes, telemetry=telemetry,
                       body_idle_timeout_s=settings.body_idle_timeout_s, body_limit=gate)
    app.add_middleware(SecurityHeaders)
    if settings.trusted_proxies:  # outermost: the client address every later layer sees comes from here
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    install_redaction()
    return app


async def _warm_routes(app: FastAPI) -> None:
    """FastAPI builds a router's route table on the first request that walks it (measured: 0.5 s of the first
    recognition after a start); a path that matches nothing walks them all, so nobody pays it."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    # No "app" in the scope: the router then answers its plain 404 instead of raising for the app's handlers.
    scope = {"type": "http", "method": "GET", "path": f"{API_PREFIX}/.warm-up", "raw_path": b"", "root_path": "",
             "headers": [], "query_string": b""}
    await app.router(scope, receive, send)


def training_memory_mb(settings: Settings) -> int:
    """TRAINING_MEMORY_MB, or three quarters of the RAM: an OOM then ends the run, not the server."""
    return settings.training_memory_mb or int(psutil.virtual_memory().total * 0.75 / 2**20)


async def _start_services(settings: Settings, telemetry: Telemetry, nvml: Any) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = await Database.open(settings.database_path)
    await sweep_storage(db, settings.data_dir)  # what a kill -9 left half-written, before anything is served
    bus = EventBus()
    policy = LockoutPolicy(settings.auth_max_failures, settings.auth_failure_window_s, settings.auth_lockout_s)
    auth_manager = AuthManager(KeyStore(db), AttemptStore(db), policy)
    plain = await auth_manager.bootstrap(settings.api_keys)
    if plain:
        announce_bootstrap_key(plain, f"http://{settings.host}:{settings.port}")
    pools = Pools.for_machine(bulk_nice=settings.training_nice)
    datasets_registry = DatasetRegistry(DatasetStore(db), settings.data_dir / "datasets", pools=pools)
    await datasets_registry.ensure_builtin(train_images=settings.shapes_train_images)
    monitor = SystemMonitor(
        SampleStore(db), bus, disk_path=settings.data_dir, interval_s=settings.system_sample_interval_s,
        retention_s=settings.system_retention_minutes * 60, gpu=GpuProbe(nvml),
    )
    await monitor.start()
    telemetry.add_pull(lambda: system_gauges(monitor.latest))
    config_dir = settings.data_dir / "ultralytics"
    # Before anything imports Ultralytics in this process (model scans, recognition): offline, our settings dir.
    await asyncio.to_thread(apply_offline_environment, config_dir)
    metrics, logs, store, evaluations = MetricsStore(db), LogStore(db), SessionStore(db), EvaluationStore(db)
    model_registry = ModelRegistry(ModelStore(db), settings.data_dir / "models", config_dir=config_dir, load_limits=Limits(
        timeout_s=settings.model_load_timeout_s, memory_mb=settings.model_load_memory_mb), pools=pools)
    specs = SpecBuilder(datasets=datasets_registry, runs_root=settings.data_dir / "runs", config_dir=config_dir,
                        child_nice=settings.training_nice, memory_limit_mb=training_memory_mb(settings))
    tokens, ingest_store = SessionTokens(TokenStore(db)), IngestStore(db)
    await tokens.load()
    executor = make_executor(settings, store, datasets_registry, tokens, ingest_store)
    scheduler = Scheduler(
        store=store, metrics=metrics, logs=logs, bus=bus, models=model_registry, evaluations=evaluations, specs=specs,
        executor=executor, max_concurrent=settings.max_concurrent_sessions,
        stop_grace_s=settings.stop_grace_s, auto_resume=settings.auto_resume,
        gpu_count=lambda: monitor.gpu.known_count,
    )
    sessions = SessionManager(store=store, scheduler=scheduler, datasets=datasets_registry, models=model_registry,
                              evaluations=evaluations, max_batch_pixels=settings.max_batch_megapixels * 1e6,
                              max_queued_per_key=settings.max_queued_per_key)
    history = RunHistory(store=store, metrics=metrics, logs=logs, flush=scheduler.flush, render=pools.render)
    ingest_service = IngestService(sessions=store, store=ingest_store, tokens=tokens, scheduler=scheduler, logs=logs,
                                   bus=bus, runs_root=settings.data_dir / "runs", files=pools.files,
                                   max_artifact_bytes=settings.max_upload_bytes)
    await scheduler.start()
    recognizer = Recognizer(store=RecognitionStore(db), bus=bus, models=model_registry, root=settings.data_dir / "recognitions",
                            pools=pools, cache_size=settings.recognition_cache_size, threads=settings.recognition_threads,
                            telemetry_observe=telemetry.observe_recognition)
    telemetry.add_pull(lambda: batching_gauges(recognizer.batch_stats))
    batches = RecognitionBatches(recognizer=recognizer, store=BatchStore(db), bus=bus, models=model_registry,
                                 files=pools.files, max_waiting=settings.recognition_async_queue,
                                 max_image_bytes=settings.recognition_max_image_mb * 2**20)
    await batches.start()
    videos_registry = VideoRegistry(VideoStore(db), settings.data_dir / "videos", pools=pools)
    stream_store, supervisor = StreamStore(db), StreamSupervisor(bus, silent_limit_s=settings.stream_hang_timeout_s)
    stream_service = StreamService(stream_store, supervisor, videos=videos_registry, models=model_registry,
                                   config_dir=config_dir, threads=settings.recognition_threads)
    telemetry.add_pull(lambda: stream_gauges(supervisor.states()))
    await stream_service.start_enabled()
    return Services(settings=settings, db=db, bus=bus, telemetry=telemetry, auth=auth_manager,
                    audit=AuditTrail(AuditStore(db)), monitor=monitor,
                    datasets=datasets_registry, models=model_registry, sessions=sessions, scheduler=scheduler,
                    history=history, ingest=ingest_service,
                    cluster=ClusterView(scheduler=scheduler, sessions=store, monitor=monitor), recognizer=recognizer,
                    pools=pools, recognition_batches=batches,
                    kits=KitService(KitStore(db), model_registry), summaries=RecognitionSummaries(SummaryStore(db)),
                    videos=videos_registry, streams=stream_service,
                    stream_config=StreamConfig(stream_store, stream_service))


async def _stop_services(services: Services) -> None:
    """Each step may fail without skipping the rest: the DB connection (a non-daemon thread) must close."""
    steps = (services.streams.supervisor.shutdown, services.recognition_batches.stop, services.scheduler.shutdown,
             services.monitor.stop, functools.partial(services.auth.flush_attempts, final=True))
    try:
        for step in steps:
            try:
                await step()
            except Exception:
                logger.exception("shutdown step %s failed", getattr(step, "__qualname__", step))
        services.recognizer.close()
        services.pools.shutdown()
    finally:
        await services.db.close()
