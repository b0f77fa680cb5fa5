"""What GET /cluster shows: the executor, its nodes, their resources and what runs where."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class GpuRead(BaseModel):
    model: str | None = Field(None, examples=["NVIDIA H100 80GB HBM3"])
    memory_mb: float | None = None


class NodeResources(BaseModel):
    cpus: float
    gpus: float
    memory_mb: float | None = None


class NodeRead(BaseModel):
    id: str = Field(description="'local', or the Ray node id.")
    address: str
    alive: bool
    head: bool = Field(False, description="The Ray head node (the server's runs depend on it: if it dies, so does "
                       "the cluster).")
    total: NodeResources
    free: NodeResources | None = Field(None, description="None when the cluster does not say.")
    gpus: list[GpuRead] = Field(default_factory=list)
    sessions: list[int] = Field(description="The runs placed on this node now.")


class ClusterRead(BaseModel):
    executor: Literal["local", "ray"]
    state: Literal["local", "connecting", "connected", "unreachable"] = Field(
        description="unreachable: runs stay queued until the cluster is back.")
    address: str | None = None
    error: str | None = Field(None, description="Why the cluster is unreachable.")
    capacity: int = Field(description="Runs that may run at once (the scheduler's limit).")
    running: int
    queued: int
    nodes: list[NodeRead]
