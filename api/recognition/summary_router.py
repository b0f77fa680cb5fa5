"""GET /recognitions/summary. Included before the recognitions router: `/recognitions/{recognition_id}` would
otherwise take `summary` for an id."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth.schemas import Role
from api.core.responses import errors
from api.dependencies import ServicesDep, require_role
from api.recognition.summary_schemas import RecognitionSummary, SummaryBy

router = APIRouter(tags=["recognition"], dependencies=[require_role(Role.viewer)], responses=errors())


@router.get("/recognitions/summary", response_model=RecognitionSummary)
async def summarize_recognitions(
    services: ServicesDep,
    by: Annotated[SummaryBy, Query(description="Group by user (X-On-Behalf-Of, else key:<id>), model or kit.")] = "user",
    since: Annotated[float | None, Query(alias="from", ge=0, description="Unix time.")] = None,
    until: Annotated[float | None, Query(alias="to", ge=0, description="Unix time.")] = None,
) -> RecognitionSummary:
    """Recognitions per user, model or kit: verdict counts and the classes most often missing."""
    return await services.summaries.summarize(by=by, since=since, until=until)
