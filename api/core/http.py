"""Dependencies shared by routes of every domain: paging, ids, the caller's address, X-On-Behalf-Of.

All are `async def` although none awaits: FastAPI runs a plain `def` dependency in its threadpool, a thread
hop per dependency per request that costs milliseconds at p99 when a training run keeps the cores busy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

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


def fast_json_body(model: type[BaseModel]) -> tuple[Any, dict[str, Any]]:
    """(a dependency giving the request body as `model`, the route's `openapi_extra`), for bulk bodies.

    FastAPI parses a JSON body with json.loads and then validates the objects; pydantic-core's validate_json does
    both in one pass, with no Python dict per item: measured 1.1 ms against 1.7 ms for 1000 metric points. A bad
    body gets the same 422 as FastAPI's (each error located under `body`)."""

    async def parse(request: Request) -> BaseModel:
        try:
            return model.model_validate_json(await request.body())
        except ValidationError as exc:
            raise RequestValidationError([{**error, "loc": ("body", *error["loc"])}
                                          for error in exc.errors(include_url=False)]) from None

    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})

    def inline(node: Any) -> Any:  # the route's schema stands alone: nested models are written out in place
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(definitions[node["$ref"].rsplit("/", 1)[-1]])
            return {key: inline(value) for key, value in node.items()}
        return [inline(item) for item in node] if isinstance(node, list) else node

    extra = {"requestBody": {"required": True, "content": {"application/json": {"schema": inline(schema)}}}}
    return Depends(parse), extra
