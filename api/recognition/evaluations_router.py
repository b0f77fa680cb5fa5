"""Evaluations: Ultralytics validation of a registered model on a dataset split, queued like training."""

from __future__ import annotations

from fastapi import APIRouter

from api.auth.schemas import Role
from api.core.http import Id, OnBehalfOf
from api.core.responses import errors
from api.dependencies import CurrentKey, ServicesDep, require_role
from api.recognition.evaluation_schemas import EvaluationCreate, EvaluationRead

viewer = APIRouter(tags=["evaluations"], dependencies=[require_role(Role.viewer)], responses=errors())
operator = APIRouter(tags=["evaluations"], dependencies=[require_role(Role.operator)], responses=errors())


@operator.post("/models/{model_id}/evaluate", response_model=EvaluationRead, status_code=201,
               responses=errors(404, 415))
async def evaluate_model(model_id: Id, body: EvaluationCreate, key: CurrentKey, behalf: OnBehalfOf,
                         services: ServicesDep) -> EvaluationRead:
    """Queue a validation run (it may wait behind training); poll GET /evaluations/{id} for the numbers."""
    return await services.sessions.create_evaluation(model_id, body, created_by=key.id, on_behalf_of=behalf)


@viewer.get("/evaluations/{evaluation_id}", response_model=EvaluationRead, responses=errors(404))
async def get_evaluation(evaluation_id: Id, services: ServicesDep) -> EvaluationRead:
    """Status and, once completed, precision/recall/mAP overall and per class (top1/top5 for classify)."""
    return await services.sessions.evaluations.get(evaluation_id)


router = APIRouter()
router.include_router(viewer)
router.include_router(operator)
