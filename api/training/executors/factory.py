"""The executor the settings ask for: local child processes (the embedded default) or a Ray cluster."""

from __future__ import annotations

from api.core.settings import Settings
from api.registry.datasets.service import DatasetRegistry
from api.training.executors.base import Executor
from api.training.executors.local import LocalProcessExecutor
from api.training.ingest.store import IngestStore
from api.training.ingest.tokens import SessionTokens
from api.training.store import SessionStore


def make_executor(settings: Settings, store: SessionStore, datasets: DatasetRegistry, tokens: SessionTokens,
                  artifacts: IngestStore) -> Executor:
    """The local executor, or a Ray cluster's (connected in the background: the server starts either way)."""
    if settings.executor == "local":
        return LocalProcessExecutor()
    from api.training.executors.ray_cluster import RayCluster, RayExecutor

    cluster = RayCluster(settings.ray_address or "auto")
    cluster.start()
    public_url = settings.public_url or f"http://{settings.host}:{settings.port}"
    return RayExecutor(cluster=cluster, sessions=store, datasets=datasets, tokens=tokens, artifacts=artifacts,
                       server_url=public_url, node_cache=settings.ray_node_cache, cpus_per_run=settings.ray_cpus_per_run)
