"""The Ray executor: each run is a Ray actor placed by the cluster on a node with the CPUs / GPUs / memory it
asks for; it reports through the public ingest API with a per-run session token (api/training/child/remote.py).

Ray is optional (requirements-ray.txt) and imported only here, only when `--executor ray` is chosen. The
connection is made in the background and retried: a cluster that is down at start leaves the server up, says so
in /health and GET /cluster, and the queue waits (capacity 0) until it is back."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import socket
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from api.registry.datasets.service import DatasetRegistry
from api.training.child.contract import Log, Message, RunSpec
from api.training.child.remote import RemoteRun, TrainingWorker
from api.training.executors.local import TrainingProcess
from api.training.ingest.store import IngestStore
from api.training.ingest.tokens import SessionTokens
from api.training.store import SessionStore

logger = logging.getLogger(__name__)
_NODE_LOST = ("NodeDiedError", "ActorDiedError", "ActorUnavailableError", "WorkerCrashedError")
_HEAD_CALL_TIMEOUT_S = 60.0


def _check_reachable(address: str, timeout_s: float = 3.0) -> None:
    """A plain TCP connect first: ray.init against a closed port blocks for minutes before it fails."""
    if address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout_s):
        pass


@dataclass
class RayCluster:
    """The driver's connection to the cluster, and what it knows of the nodes (refreshed every 2 s off the event
    loop: a Ray call to a head that stopped answering blocks, and the scheduler must not)."""

    address: str
    namespace: str = "training-server"
    state: str = "connecting"  # connecting | connected | unreachable
    last_error: str | None = None
    ray: Any = None
    _task: asyncio.Task[None] | None = field(default=None, repr=False)
    _nodes: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="ray-cluster")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
        if self.ray is not None and self.state == "connected":
            await asyncio.to_thread(self.ray.shutdown)

    async def _run(self) -> None:
        delay = 1.0
        while self.ray is None or not self.ray.is_initialized():
            try:
                await asyncio.to_thread(self._connect)
                logger.info("connected to the Ray cluster at %s", self.address)
            except Exception as exc:
                self._unreachable(exc)
                logger.warning("Ray cluster at %s unreachable (%s); retrying in %.0f s", self.address, self.last_error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        while True:
            try:
                self._nodes = await asyncio.wait_for(asyncio.to_thread(self._read_nodes), timeout=15)
                self.state, self.last_error = "connected", None
            except Exception as exc:
                self._unreachable(exc)
            await asyncio.sleep(2.0)

    def _unreachable(self, exc: BaseException) -> None:
        self.state, self._nodes = "unreachable", []
        self.last_error = f"{type(exc).__name__}: {exc}"[:500] if str(exc) else type(exc).__name__

    def _connect(self) -> None:
        _check_reachable(self.address)
        # A head that is gone for a while must not end this process (Ray's default gives up after 60 s and aborts
        # the driver, which is the whole server): wait for it, the refresh loop says "unreachable" meanwhile.
        os.environ.setdefault("RAY_gcs_rpc_server_reconnect_timeout_s", str(365 * 86400))
        try:
            import ray
        except ImportError:
            raise RuntimeError("Ray is not installed here: pip install -r requirements-ray.txt") from None

        self.ray = ray
        ray.init(address=self.address, namespace=self.namespace, log_to_driver=False, ignore_reinit_error=True,
                 logging_level=logging.WARNING)
        self._nodes = self._read_nodes()
        self.state, self.last_error = "connected", None

    def _read_nodes(self) -> list[dict[str, Any]]:
        ray = self.ray
        try:
            free = ray._private.state.available_resources_per_node()
        except Exception:  # a private API: without it, free resources are unknown, not wrong
            free = {}
        return [{"id": node["NodeID"], "address": node["NodeManagerAddress"], "resources": node["Resources"],
                 "free": free.get(node["NodeID"], {}), "alive": True, "head": "node:__internal_head__" in node["Resources"]}
                for node in ray.nodes() if node["Alive"]]

    def nodes(self) -> list[dict[str, Any]]:
        """Alive nodes as of the last refresh: id, address, total and free resources (no dashboard needed)."""
        return self._nodes if self.state == "connected" else []

    async def wait_gone(self, node_id: str, timeout_s: float = 60.0) -> bool:
        """Whether the cluster says the node died, within the timeout (its health checks take seconds): a run
        relaunched before that may be placed on the dead node again, and fail at once."""
        for _ in range(int(timeout_s / 0.5)):  # the node list is refreshed every 2 s
            if self.state == "connected" and all(node["id"] != node_id for node in self.nodes()):
                return True
            await asyncio.sleep(0.5)
        return False

    def capacity(self, cpus_per_run: float) -> int:
        """How many runs fit at once: per node, its CPUs / cpus_per_run (a run never spans nodes)."""
        return sum(int(node["resources"].get("CPU", 0) // cpus_per_run) for node in self.nodes())


class RayRun:
    """One run as a Ray actor; its reports arrive over HTTP, so messages() only waits for the actor to end."""

    def __init__(self, executor: RayExecutor, spec: RunSpec) -> None:
        self.executor, self.spec = executor, spec
        self.node_id: str | None = None
        self.lost = False  # the node (or the actor's process) died under it: the run resumes elsewhere
        self._actor: Any = None
        self._asks = ""
        self._killed = False  # by us (server shutdown): its end says nothing about its node
        self._where: Any = None
        self._ref: Any = None
        self._error: str | None = None
        self._outcome: str | None = None

    @property
    def pid(self) -> int | None:
        return None

    async def start(self) -> None:
        executor, spec = self.executor, self.spec
        ray = executor.cluster.ray
        if executor.cluster.state != "connected":
            raise RuntimeError(f"the Ray cluster is {executor.cluster.state}")
        record = await executor.sessions.record(spec.session_id)
        if record.dataset_id is None:
            raise RuntimeError("its dataset was deleted")
        dataset = await executor.datasets.get(record.dataset_id)
        archive = await executor.datasets.archive(record.dataset_id)
        resume_id = None
        if spec.resume:
            checkpoints = [a for a in await executor.artifacts.artifacts(spec.session_id) if a.role == "checkpoint"]
            resume_id = checkpoints[-1].id if checkpoints else None
        token = await executor.tokens.issue(spec.session_id, record.attempts)
        run = RemoteRun(spec=spec, server_url=executor.server_url, token=token, dataset_id=dataset.id,
                        dataset_sha256=archive.sha256, classes=dataset.classes, cache_root=executor.node_cache,
                        resume_artifact_id=resume_id, base_model_id=record.base_model_id)
        gpus = 0 if spec.device == "cpu" else len(spec.device.split(",")) if spec.device != "auto" else executor.auto_gpus()
        self._asks = f"{executor.cpus_per_run:g} CPUs, {gpus} GPUs"

        def submit() -> None:  # talks to the head: off the event loop, and bounded
            actor_class = ray.remote(TrainingWorker)
            self._actor = actor_class.options(num_cpus=executor.cpus_per_run, num_gpus=gpus, max_restarts=0,
                                              max_task_retries=0, name=f"training-{spec.session_id}-{record.attempts}",
                                              runtime_env={"env_vars": executor.worker_env}).remote()
            self._where = self._actor.where.remote()  # answered once Ray has placed the actor on a node
            self._ref = self._actor.train.remote(run)

        await asyncio.wait_for(asyncio.to_thread(submit), timeout=_HEAD_CALL_TIMEOUT_S)

    async def messages(self) -> AsyncIterator[Message]:
        try:
            try:
                where = await asyncio.wait_for(self._where, timeout=self.executor.placement_timeout_s)
            except TimeoutError:
                raise RuntimeError(f"no node of the cluster could take it ({self._asks}) within "
                                   f"{self.executor.placement_timeout_s:.0f} s") from None
            self.node_id = where["node_id"]
            await self.executor.sessions.update(self.spec.session_id, node=self.node_id,
                                                device=f"cuda:{','.join(where['gpus'])}" if where["gpus"] else "cpu")
            yield Log(level="INFO", message=f"placed on Ray node {self.node_id} ({where['host']})")
            self._outcome = await self._ref
        except Exception as exc:
            await self.executor.tokens.expire(self.spec.session_id)  # now: a partitioned worker must not write on
            self._error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:500]
            logger.warning("session %d on Ray node %s ended: %s", self.spec.session_id, self.node_id, self._error)
            # Lost only when its node is really gone: a run that crashes its worker every time (a segfault, an
            # OOM kill) would otherwise be resumed forever.
            if type(exc).__name__ in _NODE_LOST and self.node_id and not self._killed:
                self.lost = await self.executor.cluster.wait_gone(self.node_id)
        finally:
            await self.executor.tokens.expire(self.spec.session_id)
            self.executor.runs.pop(self.spec.session_id, None)
            await asyncio.to_thread(self._kill_actor)

    async def stop(self, grace_s: float) -> None:
        """The stop flag is already stored: the worker hears it in its next ingest answer. Killed after the grace."""
        try:
            await asyncio.wait_for(asyncio.shield(self._ref), timeout=grace_s)
        except Exception:  # the grace ran out, or it ended with an error its messages() reports
            await asyncio.to_thread(self._kill_actor)

    def kill(self) -> None:
        """Called on the event loop (server shutdown): the kill goes to the head from a thread."""
        self._killed = True
        threading.Thread(target=self._kill_actor, daemon=True, name="ray-kill").start()

    def _kill_actor(self) -> None:
        if self._actor is not None:
            try:
                self.executor.cluster.ray.kill(self._actor, no_restart=True)
            except Exception:
                logger.debug("actor already gone", exc_info=True)

    def describe_exit(self) -> str:
        if self.lost:
            return f"the Ray node running it was lost ({self._error})"
        if self._error:
            return f"the Ray worker failed: {self._error}"
        return f"the Ray worker ended ({self._outcome}) without reporting a result"


class RayExecutor:
    """Launches runs on the cluster; the scheduler's concurrency limit is the cluster's capacity."""

    places_devices = True  # Ray picks the node and its GPUs; the scheduler passes the asked device through

    def __init__(self, *, cluster: RayCluster, sessions: SessionStore, datasets: DatasetRegistry, tokens: SessionTokens,
                 artifacts: IngestStore, server_url: str, node_cache: str, cpus_per_run: float = 1.0,
                 placement_timeout_s: float = 600.0, worker_env: dict[str, str] | None = None) -> None:
        self.cluster, self.sessions, self.datasets, self.tokens = cluster, sessions, datasets, tokens
        self.artifacts, self.server_url, self.node_cache = artifacts, server_url, node_cache
        self.cpus_per_run, self.placement_timeout_s = cpus_per_run, placement_timeout_s
        self.worker_env = worker_env or {}
        self.runs: dict[int, RayRun] = {}

    def launch(self, spec: RunSpec) -> RayRun | TrainingProcess:
        if spec.kind == "evaluate":  # minutes of validation next to the dataset: on this machine, as before
            device = "cpu" if spec.device == "auto" else spec.device
            return TrainingProcess(dataclasses.replace(spec, device=device))
        run = RayRun(self, spec)
        self.runs[spec.session_id] = run
        return run

    def capacity(self) -> int:
        return self.cluster.capacity(self.cpus_per_run)

    async def close(self) -> None:
        await self.cluster.stop()

    def auto_gpus(self) -> int:
        return 1 if any(node["resources"].get("GPU", 0) >= 1 for node in self.cluster.nodes()) else 0

    def placements(self) -> dict[int, str]:
        """session id -> node id of the runs placed now."""
        return {session_id: run.node_id for session_id, run in self.runs.items() if run.node_id}

    def describe(self) -> dict[str, Any]:
        return {"state": self.cluster.state, "address": self.cluster.address, "error": self.cluster.last_error,
                "checked_at": time.time()}
