"""The cluster as the API shows it: this machine for the local executor, the Ray nodes for the Ray executor."""

from __future__ import annotations

from typing import Any

from api.system.monitor import SystemMonitor
from api.training.cluster.schemas import ClusterRead, GpuRead, NodeRead, NodeResources
from api.training.scheduler import Scheduler
from api.training.schemas import SessionStatus
from api.training.store import SessionStore

_BYTES_PER_MB = 2**20


def _resources(values: dict[str, float]) -> NodeResources:
    memory = values.get("memory")
    return NodeResources(cpus=values.get("CPU", 0.0), gpus=values.get("GPU", 0.0),
                         memory_mb=round(memory / _BYTES_PER_MB, 1) if memory is not None else None)


def _gpu_models(resources: dict[str, float]) -> list[GpuRead]:
    """Ray names a node's accelerator as a resource, `accelerator_type:H100`; it does not say its memory."""
    models = [key.split(":", 1)[1] for key in resources if key.startswith("accelerator_type:")]
    return [GpuRead(model=models[0] if models else None) for _ in range(int(resources.get("GPU", 0)))]


class ClusterView:
    def __init__(self, *, scheduler: Scheduler, sessions: SessionStore, monitor: SystemMonitor) -> None:
        self.scheduler, self.sessions, self.monitor = scheduler, sessions, monitor

    def state(self) -> tuple[str, str | None]:
        """('local' | 'connecting' | 'connected' | 'unreachable', the error): what /health says of the cluster."""
        cluster = getattr(self.scheduler.executor, "cluster", None)
        return ("local", None) if cluster is None else (cluster.state, cluster.last_error)

    async def read(self) -> ClusterRead:
        queue = await self.sessions.ids_in(SessionStatus.queued)
        running = await self.sessions.ids_in(SessionStatus.running)
        executor = self.scheduler.executor
        cluster = getattr(executor, "cluster", None)
        if cluster is None:
            nodes = [self._this_machine(running)]
            return ClusterRead(executor="local", state="local", capacity=self.scheduler.limit, running=len(running),
                               queued=len(queue), nodes=nodes)
        ray_nodes: list[dict[str, Any]] = cluster.nodes()
        placed = executor.placements()  # type: ignore[attr-defined]
        nodes = [NodeRead(id=node["id"], address=node["address"], alive=node["alive"], head=node["head"],
                          total=_resources(node["resources"]),
                          free=_resources(node["free"]) if node["free"] else None, gpus=_gpu_models(node["resources"]),
                          sessions=sorted(sid for sid, node_id in placed.items() if node_id == node["id"]))
                 for node in ray_nodes]
        return ClusterRead(executor="ray", state=cluster.state, address=cluster.address, error=cluster.last_error,
                           capacity=self.scheduler.limit, running=len(running), queued=len(queue), nodes=nodes)

    def _this_machine(self, running: list[int]) -> NodeRead:
        sample = self.monitor.latest  # the monitor takes its first sample before the server answers
        gpus = [GpuRead(model=gpu.name, memory_mb=gpu.memory_total_mb) for gpu in sample.gpus]
        total = NodeResources(cpus=sample.cpu_count, gpus=len(gpus), memory_mb=sample.ram_total_mb)
        busy_gpus = {index for device in self.scheduler.running_devices() for index in device.split(",") if index.isdigit()}
        free = NodeResources(cpus=round(sample.cpu_count * (1 - sample.cpu_percent / 100), 1),
                             gpus=len(gpus) - len(busy_gpus), memory_mb=round(sample.ram_total_mb - sample.ram_used_mb, 1))
        return NodeRead(id="local", address="127.0.0.1", alive=True, head=True, total=total, free=free, gpus=gpus,
                        sessions=sorted(running))
