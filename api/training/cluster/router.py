"""GET /cluster: where training runs."""

from __future__ import annotations

from fastapi import APIRouter

from api.auth.schemas import Role
from api.core.responses import errors
from api.dependencies import ServicesDep, require_role
from api.training.cluster.schemas import ClusterRead

router = APIRouter(tags=["cluster"], dependencies=[require_role(Role.viewer)], responses=errors())


@router.get("/cluster", response_model=ClusterRead)
async def get_cluster(services: ServicesDep) -> ClusterRead:
    """The executor (local or ray), its state, nodes with CPUs, GPUs, memory, free resources and the runs on each."""
    return await services.cluster.read()
