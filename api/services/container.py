"""The services one app instance owns, built in the lifespan and handed to requests via app.state."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from api.config import Settings
from api.database import Database
from api.services.auth_manager import AuthManager
from api.services.dataset_registry import DatasetRegistry
from api.services.events import EventBus
from api.services.system_monitor import SystemMonitor
from api.services.telemetry import Telemetry


@dataclass
class Services:
    settings: Settings
    db: Database
    bus: EventBus
    telemetry: Telemetry
    auth: AuthManager
    monitor: SystemMonitor
    datasets: DatasetRegistry
    started_at: float = field(default_factory=time.time)
