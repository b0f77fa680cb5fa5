"""Keys never reach a log line: uvicorn's access log prints full URLs, and an old client may still put the key
in one (`WS /events?api_key=...`)."""

from __future__ import annotations

import logging
import re

_SECRET_PARAM = re.compile(r"(?i)((?:api_key|apikey|key|token)=)[^&\s\"]+")


def redact(text: str) -> str:
    return _SECRET_PARAM.sub(r"\1[redacted]", text)


class RedactKeys(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)  # type: ignore[arg-type]
        record.msg = redact(record.msg) if isinstance(record.msg, str) else record.msg
        return True


def install_redaction() -> None:
    """Idempotent: on uvicorn's access and error loggers (handlers come and go, loggers stay)."""
    for name in ("uvicorn.access", "uvicorn.error", "uvicorn"):
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactKeys) for existing in logger.filters):
            logger.addFilter(RedactKeys())
