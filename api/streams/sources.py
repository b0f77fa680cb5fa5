"""Stream sources: which schemes exist, who may use them, and how they are shown without their passwords."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from api.auth.schemas import ApiKeyRead, Role
from api.core.errors import Forbidden, ValidationFailed


def mask(source: str) -> str:
    """rtsp://user:secret@cam/1 -> rtsp://user:***@cam/1: camera passwords reach neither readers nor logs."""
    if "://" not in source:
        return source
    parts = urlsplit(source)
    if parts.password is None:
        return source
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def check_url(source: str, field: str) -> None:
    """A URL must name a host; OpenCV is not handed 'rtsp://' with nothing after it."""
    if "://" in source:
        try:
            parts = urlsplit(source)
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError as exc:
            raise ValidationFailed.for_field(field, f"not a valid URL: {exc}") from None
        if not parts.hostname:
            raise ValidationFailed.for_field(field, "the URL names no host")


def check_allowed(source: str, key: ApiKeyRead, field: str = "body.source") -> None:
    """A local camera is this machine's hardware: only admins may open one."""
    if source.startswith("device:") and key.role != Role.admin:
        raise Forbidden("Only admins may use a local camera (device:<n>) as a source.", code="forbidden_source",
                        details={"field": field})


def video_id(source: str) -> int | None:
    return int(source.removeprefix("video:")) if source.startswith("video:") else None
