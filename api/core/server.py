"""How uvicorn serves the app (run_api.py and the tests' live server): the same hardened settings for both."""

from __future__ import annotations

from typing import Any

import uvicorn

from api.core.settings import Settings


def server_config(app: Any, settings: Settings, **overrides: Any) -> uvicorn.Config:
    """No `server: uvicorn` banner; X-Forwarded-For only through TRUSTED_PROXIES (main.py), never from any peer;
    a connection cap answered with 503 at once; idle keep-alive connections closed after 5 s."""
    options: dict[str, Any] = {
        "host": settings.host, "port": settings.port, "log_level": settings.log_level, "log_config": None,
        "proxy_headers": False, "server_header": False, "limit_concurrency": settings.max_connections,
        "timeout_keep_alive": 5,
    }
    return uvicorn.Config(app, **{**options, **overrides})
