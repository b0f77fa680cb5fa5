"""The services one app instance owns, built in the lifespan and handed to requests via app.state."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from api.config import Settings
from api.database import Database
from api.services.auth_manager import AuthManager
from api.services.dataset_registry import DatasetRegistry
from api.services.events import EventBus
from api.services.log_store import LogStore
from api.services.metrics_store import MetricsStore
from api.services.model_registry import ModelRegistry
from api.services.recognition import Recognizer
from api.services.system_monitor import SystemMonitor
from api.services.telemetry import Telemetry
from api.services.training_session_manager import SessionManager


@dataclass
class Services:
    settings: Settings
    db: Database
    bus: EventBus
    telemetry: Telemetry
    auth: AuthManager
    monitor: SystemMonitor
    datasets: DatasetRegistry
    models: ModelRegistry
    metrics: MetricsStore
    logs: LogStore
    sessions: SessionManager
    recognizer: Recognizer
    started_at: float = field(default_factory=time.time)
