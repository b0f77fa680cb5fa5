"""OpenAPI descriptions of the error responses routes can give."""

from __future__ import annotations

from typing import Any

from api.core.schemas import ErrorResponse

_DESCRIPTIONS = {
    401: "Missing, unknown or revoked API key.",
    403: "The key's role does not allow this.",
    404: "No such resource.",
    409: "Conflicts with the resource's state.",
    413: "Request body too large.",
    415: "Unsupported content type.",
    422: "Invalid input; details.fields names each offending field.",
    429: "Too many failed auth attempts from this address; see Retry-After.",
    503: "Temporarily unable; error.code says why: disk_full (the data disk has no room; nothing was stored),"
         " sample_not_ready, export_failed, ...",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the statuses given plus those every authenticated route can return (503: any
    write may find the disk full)."""
    wanted = sorted({401, 403, 422, 429, 503, *statuses})
    return {status: {"model": ErrorResponse, "description": _DESCRIPTIONS[status]} for status in wanted}
