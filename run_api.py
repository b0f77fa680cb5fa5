"""The server's entry point.

    python run_api.py [--host H] [--port P] [--data-dir D] ...   start the API server (flags: --help)
    python run_api.py backup --to DIR [--data-dir D]              copy a data dir, also while the server runs
    python run_api.py restore --from DIR [--data-dir D]           put a backup into an empty data dir

backup and restore exit 0 when done, 2 when they refuse (nothing written), 1 when copying failed (what they
wrote is removed again)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import uvicorn

from api.core.settings import Settings

_FLAGS = ("host", "port", "data_dir", "api_keys", "max_concurrent_sessions", "log_level")
COMMANDS = ("backup", "restore")


def parse_flags(argv: list[str] | None = None) -> dict[str, Any]:
    """Flags given on the command line only; each one overrides env and .env."""
    fields = Settings.model_fields
    parser = argparse.ArgumentParser(
        description="Training & recognition server. Every flag is also an environment variable "
        "(upper case, e.g. PORT) or a line in .env; a flag wins over both.",
        epilog="Commands: 'run_api.py backup --to DIR' copies the data dir (also while the server runs), "
        "'run_api.py restore --from DIR' puts a backup into an empty data dir; each has its own --help.",
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
    parser.add_argument("--executor", choices=["local", "ray"], help=f"{fields['executor'].description} Default local.")
    parser.add_argument(
        "--log-level", dest="log_level", choices=["debug", "info", "warning", "error", "critical"],
        help="Log level. Default info.",
    )
    return vars(parser.parse_args(argv))


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)-7s %(name)s: %(message)s", force=True
    )


def parse_command(argv: list[str]) -> argparse.Namespace:
    """`backup ...` or `restore ...`: the data dir defaults to the server's (DATA_DIR, .env, ./data)."""
    status = "Exit status: 0 done, 2 refused (nothing written), 1 failed (what was written is removed again)."
    parser = argparse.ArgumentParser(prog="run_api.py", description="Back up or restore a server's data dir.",
                                     epilog=status)
    commands = parser.add_subparsers(dest="command", required=True)
    backup = commands.add_parser(
        "backup", help="copy the database and the files its rows own into an empty folder",
        description="Copy the SQLite database (online backup API: consistent while the server runs) and the "
        "files its rows own (datasets, models, recognitions, runs) into DIR, with a manifest of every file's "
        "size and sha256, read back after copying. DIR must be empty or absent.", epilog=status)
    backup.add_argument("--to", dest="target", required=True, metavar="DIR", help="Empty or new folder.")
    restore = commands.add_parser(
        "restore", help="check a backup whole, then copy it into an empty data dir",
        description="Check every file of the backup against its manifest before writing anything, copy it into "
        "the data dir (empty or absent), then run PRAGMA integrity_check on the restored database.", epilog=status)
    restore.add_argument("--from", dest="source", required=True, metavar="DIR", help="A folder made by backup.")
    for command in (backup, restore):
        command.add_argument("--data-dir", dest="data_dir", metavar="D",
                             help="The server's data dir. Default: DATA_DIR, .env, ./data.")
    return parser.parse_args(argv)


def run_command(argv: list[str]) -> int:
    """Run `backup` or `restore`; returns the exit status."""
    from api.core.backup import BackupFailed, BackupRefused, backup, restore

    args = parse_command(argv)
    configure_logging("warning")
    settings = Settings(**({"data_dir": args.data_dir} if args.data_dir else {}))
    try:
        if args.command == "backup":
            done = backup(database=settings.database_path, data_dir=settings.data_dir, target=Path(args.target))
            print(f"backed up {len(done.files)} files ({done.total_bytes / 2**20:.1f} MiB) of {settings.data_dir} "
                  f"into {args.target}; {len(done.skipped)} skipped (gone before they were copied, or links)")
        else:
            done = restore(source=Path(args.source), data_dir=settings.data_dir)
            print(f"restored {len(done.files)} files ({done.total_bytes / 2**20:.1f} MiB) from {args.source} into "
                  f"{settings.data_dir}; integrity_check ok")
    except BackupRefused as exc:
        print(f"run_api.py {args.command}: refused: {exc}", file=sys.stderr)
        return 2
    except (BackupFailed, OSError) as exc:
        print(f"run_api.py {args.command}: failed, nothing kept: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in COMMANDS:
        sys.exit(run_command(argv))
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
