"""The arrows of DESIGN.md: services never import FastAPI or routes; trainers import no server parts;
the bot never imports api/."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imported_modules(folder: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in folder.rglob("*.py"):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def offenders(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{path} imports {name}"
        for path, names in imported_modules(ROOT / folder).items()
        for name in names
        if any(name == bad or name.startswith(bad + ".") for bad in forbidden)
    ]


def test_services_do_not_import_http_layers() -> None:
    assert offenders("api/services", ("fastapi", "starlette", "api.routes", "api.main")) == []


def test_trainers_know_nothing_of_the_server() -> None:
    forbidden = ("fastapi", "starlette", "aiosqlite", "api.routes", "api.services", "api.database", "api.main")
    assert offenders("api/trainers", forbidden) == []


def test_bot_talks_http_only() -> None:
    assert offenders("telegram_bot", ("api",)) == []


def test_routes_run_no_sql() -> None:
    assert offenders("api/routes", ("aiosqlite", "sqlite3", "api.database")) == []
