"""The services one app instance owns, built in the lifespan and handed to requests via app.state."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from api.audit.trail import AuditTrail
from api.auth.service import AuthManager
from api.core.database import Database
from api.core.events import EventBus
from api.core.pools import Pools
from api.core.settings import Settings
from api.core.telemetry import Telemetry
from api.recognition.batches import RecognitionBatches
from api.recognition.kits_service import KitService
from api.recognition.service import Recognizer
from api.recognition.summary_service import RecognitionSummaries
from api.registry.datasets.service import DatasetRegistry
from api.registry.models.service import ModelRegistry
from api.streams.config_service import StreamConfig
from api.streams.service import StreamService
from api.streams.videos_service import VideoRegistry
from api.system.monitor import SystemMonitor
from api.training.cluster.service import ClusterView
from api.training.history import RunHistory
from api.training.ingest.service import IngestService
from api.training.manager import SessionManager
from api.training.scheduler import Scheduler


@dataclass
class Services:
    settings: Settings
    db: Database
    bus: EventBus
    telemetry: Telemetry
    auth: AuthManager
    audit: AuditTrail
    monitor: SystemMonitor
    datasets: DatasetRegistry
    models: ModelRegistry
    sessions: SessionManager
    scheduler: Scheduler
    history: RunHistory
    ingest: IngestService
    cluster: ClusterView
    recognizer: Recognizer
    recognition_batches: RecognitionBatches
    kits: KitService
    summaries: RecognitionSummaries
    videos: VideoRegistry
    streams: StreamService
    stream_config: StreamConfig
    pools: Pools
    started_at: float = field(default_factory=time.time)
