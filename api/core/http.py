"""Dependencies shared by routes of every domain: paging, ids, the caller's address, X-On-Behalf-Of.

All are `async def` although none awaits: FastAPI runs a plain `def` dependency in its threadpool, a thread
hop per dependency per request that costs milliseconds at p99 when a training run keeps the cores busy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Query, Request

from api.core.schemas import MAX_ID

API_PREFIX = "/api/v1"


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def on_behalf_of(request: Request) -> str | None:
    """The X-On-Behalf-Of header (e.g. "tg:12345") the bot sends to attribute actions to a user."""
    value = request.headers.get("x-on-behalf-of")
    return value[:100] if value else None


OnBehalfOf = Annotated[str | None, Depends(on_behalf_of)]


@dataclass(frozen=True, slots=True)
class PageParams:
    limit: int
    offset: int
    as_of: int | None = None


async def page_params(
    limit: Annotated[int, Query(ge=1, le=1000, description="Items per page.")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


Page = Annotated[PageParams, Depends(page_params)]


async def snapshot_page_params(
    page: Page,
    as_of: Annotated[int | None, Query(ge=1, le=MAX_ID, description=(
        "Leave out rows with a higher id. Pass the id of the first item of your first page (newest-first "
        "lists) so rows created while you page do not shift the later pages."))] = None,
) -> PageParams:
    return PageParams(limit=page.limit, offset=page.offset, as_of=as_of)


# Lists of rows with ids: Page plus `as_of`, a snapshot bound that fetch_page honours.
SnapshotPage = Annotated[PageParams, Depends(snapshot_page_params)]


Id = Annotated[int, Path(ge=1, le=MAX_ID, description="An id (1 or more).")]
