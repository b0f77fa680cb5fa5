"""Start the API server: python run_api.py [--host H] [--port P] [--data-dir D] ..."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import uvicorn

from api.core.settings import Settings

_FLAGS = ("host", "port", "data_dir", "api_keys", "max_concurrent_sessions", "log_level")


def parse_flags(argv: list[str] | None = None) -> dict[str, Any]:
    """Flags given on the command line only; each one overrides env and .env."""
    fields = Settings.model_fields
    parser = argparse.ArgumentParser(
        description="Training & recognition server. Every flag is also an environment variable "
        "(upper case, e.g. PORT) or a line in .env; a flag wins over both.",
        argument_default=argparse.SUPPRESS,
    )
    parser.add_argument("--host", help=f"{fields['host'].description} Default 127.0.0.1.")
    parser.add_argument("--port", type=int, help=f"{fields['port'].description} Default 8000.")
    parser.add_argument("--data-dir", dest="data_dir", help=f"{fields['data_dir'].description} Default ./data.")
    parser.add_argument("--api-keys", dest="api_keys", help=fields["api_keys"].description)
    parser.add_argument(
        "--max-concurrent-sessions", dest="max_concurrent_sessions", type=int,
        help=f"{fields['max_concurrent_sessions'].description} Default 1.",
    )
    parser.add_argument(
        "--log-level", dest="log_level", choices=["debug", "info", "warning", "error", "critical"],
        help="Log level. Default info.",
    )
    return vars(parser.parse_args(argv))


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", force=True
    )


def main(argv: list[str] | None = None) -> None:
    settings = Settings(**parse_flags(argv))
    configure_logging(settings.log_level)
    from api.core.server import server_config
    from api.main import create_app

    server = uvicorn.Server(server_config(create_app(settings), settings))
    try:
        server.run()
    except KeyboardInterrupt:  # Ctrl+C (SIGINT) after a clean shutdown: what uvicorn.run() does too
        pass


if __name__ == "__main__":
    main()
