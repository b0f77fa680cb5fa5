"""create_app(settings): the FastAPI app; its lifespan opens the DB and starts background services."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from api import __version__
from api.config import Settings
from api.database import Database
from api.middleware import RequestGuard
from api.routes import auth, datasets, errors, evaluations, events, health, models, recognitions, sessions, system
from api.services.auth_manager import AuthManager, LockoutPolicy
from api.services.container import Services
from api.services.dataset_registry import DatasetRegistry
from api.services.evaluation_store import EvaluationStore
from api.services.events import EventBus
from api.services.log_store import LogStore
from api.services.metrics_store import MetricsStore
from api.services.model_registry import ModelRegistry
from api.services.periodic import every
from api.services.recognition import Recognizer
from api.services.session_store import SessionStore
from api.services.storage_sweep import sweep_storage
from api.services.system_monitor import GpuProbe, SystemMonitor
from api.services.telemetry import Telemetry, system_gauges
from api.services.training_session_manager import SessionManager
from api.trainers.offline import apply_offline_environment

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
_AUTH_ATTEMPT_RETENTION_S = 30 * 24 * 3600

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
        ]
        if settings.recognition_image_retention_days > 0:
            retention_s = settings.recognition_image_retention_days * 86400
            background.append(asyncio.create_task(every(
                3600, lambda: services.recognizer.prune_images(retention_s=retention_s), "recognition-retention",
                at_start=True)))
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
    )
    errors.install_error_handlers(app)
    for module in (health, auth, system, datasets, models, sessions, evaluations, recognitions, events):
        app.include_router(module.router, prefix=API_PREFIX)
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_upload_bytes, telemetry=telemetry,
                       body_idle_timeout_s=settings.body_idle_timeout_s)
    return app


async def _start_services(settings: Settings, telemetry: Telemetry, nvml: Any) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = await Database.open(settings.database_path)
    await sweep_storage(db, settings.data_dir)  # what a kill -9 left half-written, before anything is served
    bus = EventBus()
    policy = LockoutPolicy(settings.auth_max_failures, settings.auth_failure_window_s, settings.auth_lockout_s)
    auth_manager = AuthManager(db, policy)
    plain = await auth_manager.bootstrap(settings.api_keys)
    if plain:
        announce_bootstrap_key(plain, f"http://{settings.host}:{settings.port}")
    datasets_registry = DatasetRegistry(db, settings.data_dir / "datasets")
    await datasets_registry.ensure_builtin(train_images=settings.shapes_train_images)
    monitor = SystemMonitor(
        db, bus, disk_path=settings.data_dir, interval_s=settings.system_sample_interval_s,
        retention_s=settings.system_retention_minutes * 60, gpu=GpuProbe(nvml),
    )
    await monitor.start()
    telemetry.add_pull(lambda: system_gauges(monitor.latest))
    config_dir = settings.data_dir / "ultralytics"
    # Before anything imports Ultralytics in this process (model scans, recognition): offline, our settings dir.
    await asyncio.to_thread(apply_offline_environment, config_dir)
    metrics, logs = MetricsStore(db), LogStore(db)
    model_registry = ModelRegistry(db, settings.data_dir / "models")
    sessions = SessionManager(
        store=SessionStore(db), metrics=metrics, logs=logs, bus=bus, datasets=datasets_registry,
        models=model_registry, runs_root=settings.data_dir / "runs", config_dir=config_dir,
        max_concurrent=settings.max_concurrent_sessions, stop_grace_s=settings.stop_grace_s,
        auto_resume=settings.auto_resume, gpu_count=lambda: monitor.gpu.known_count, evaluations=EvaluationStore(db),
        child_nice=settings.training_nice,
    )
    await sessions.start()
    recognizer = Recognizer(db=db, bus=bus, models=model_registry, root=settings.data_dir / "recognitions",
                            cache_size=settings.recognition_cache_size, threads=settings.recognition_threads,
                            telemetry_observe=telemetry.observe_recognition)
    return Services(settings=settings, db=db, bus=bus, telemetry=telemetry, auth=auth_manager, monitor=monitor,
                    datasets=datasets_registry, models=model_registry, metrics=metrics, logs=logs, sessions=sessions,
                    recognizer=recognizer)


async def _stop_services(services: Services) -> None:
    """Each step may fail without skipping the rest: the DB connection (a non-daemon thread) must close."""
    steps = (services.sessions.shutdown, services.monitor.stop, services.auth.flush_attempts)
    try:
        for step in steps:
            try:
                await step()
            except Exception:
                logger.exception("shutdown step %s failed", getattr(step, "__qualname__", step))
        services.recognizer.close()
    finally:
        await services.db.close()
