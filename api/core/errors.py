"""Errors that services raise; api/core/error_handlers.py renders them as {"error": {...}}."""

from __future__ import annotations

import errno
import sqlite3
from typing import Any


class AppError(Exception):
    """Base of every error a client may see; subclasses fix the HTTP status and a default code."""

    status_code = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.details = details or {}
        self.headers = headers or {}

    def __reduce__(self) -> tuple[Any, ...]:
        # Raised in a pool or isolated process, it crosses back whole (code, details), not rebuilt from args.
        return _rebuild, (type(self), self.message, self.code, self.details, self.headers)


def _rebuild(cls: type[AppError], message: str, code: str, details: dict[str, Any],
             headers: dict[str, str]) -> AppError:
    error = cls.__new__(cls)
    AppError.__init__(error, message, code=code, details=details, headers=headers)
    return error


class BadRequest(AppError):
    pass


class Unauthorized(AppError):
    status_code = 401
    code = "unauthorized"


class Forbidden(AppError):
    status_code = 403
    code = "forbidden"


class NotFound(AppError):
    status_code = 404
    code = "not_found"


class Conflict(AppError):
    status_code = 409
    code = "conflict"


class InvalidTransition(Conflict):
    code = "invalid_transition"


class PayloadTooLarge(AppError):
    status_code = 413
    code = "payload_too_large"


class RequestTimeout(AppError):
    status_code = 408
    code = "request_timeout"


class UnsupportedMediaType(AppError):
    status_code = 415
    code = "unsupported_media_type"


class ValidationFailed(AppError):
    status_code = 422
    code = "validation_error"

    @classmethod
    def for_field(cls, field: str, message: str, *, code: str | None = None) -> ValidationFailed:
        """A 422 shaped like a request-validation error: details.fields names the field."""
        return cls(f"Invalid request: {field}: {message}", code=code,
                   details={"fields": [{"field": field, "message": message, "type": "value_error"}]})


class TooManyRequests(AppError):
    status_code = 429
    code = "too_many_requests"


class ServiceUnavailable(AppError):
    status_code = 503
    code = "service_unavailable"


class InternalError(AppError):
    """What a client sees of an unexpected failure: the request id, never internals."""

    status_code = 500
    code = "internal_error"


class DiskFull(ServiceUnavailable):
    """The data disk (files or SQLite) has no room left; whatever was being written was not stored."""

    code = "disk_full"

    def __init__(self, message: str = "The server's disk is full; nothing was stored.", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


def as_app_error(exc: BaseException) -> AppError | None:
    """The error a client should see for `exc`: itself if it is one, DiskFull for a full disk, else None (a 500)."""
    return exc if isinstance(exc, AppError) else disk_full(exc)


def disk_full(exc: BaseException) -> DiskFull | None:
    """DiskFull when `exc` means there is no room left (a file write or SQLite), else None."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull()
    if isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_FULL:
        return DiskFull()
    return None
