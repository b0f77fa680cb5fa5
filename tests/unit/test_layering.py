"""The arrows of the layout, per domain package: routers -> services -> stores; only routers (and the HTTP
plumbing of api/core) know FastAPI; routers run no SQL; the training child knows nothing of the server; core
knows no domain; the bot never imports api/. Plus: no import cycle, no module in api/ over 300 lines."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
API = ROOT / "api"
DOMAINS = ("api.audit", "api.auth", "api.system", "api.training", "api.registry", "api.recognition")
HTTP_PLUMBING = {"api/core/http.py", "api/core/error_handlers.py", "api/core/responses.py", "api/core/middleware.py",
                 "api/core/server.py", "api/auth/gate.py", "api/audit/middleware.py", "api/dependencies.py", "api/main.py"}
WEB = ("fastapi", "starlette", "uvicorn")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else module_name(path)
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # `from api.x import module`
    return names


def all_imports(folder: Path) -> dict[str, set[str]]:
    return {str(path.relative_to(ROOT)): imports_of(path) for path in sorted(folder.rglob("*.py"))}


def hits(name: str, forbidden: tuple[str, ...]) -> bool:
    return any(name == bad or name.startswith(bad + ".") for bad in forbidden)


def is_router(path: str) -> bool:
    return Path(path).stem == "router" or Path(path).stem.endswith("_router")


def test_only_routers_and_http_plumbing_know_the_web_framework() -> None:
    bad = [f"{path} imports {name}" for path, names in all_imports(API).items()
           if not is_router(path) and path not in HTTP_PLUMBING for name in names if hits(name, WEB)]
    assert bad == []


def test_services_never_import_routers() -> None:
    bad = [f"{path} imports {name}" for path, names in all_imports(API).items() if not is_router(path)
           and path not in HTTP_PLUMBING for name in names
           if name.startswith("api.") and (name.rsplit(".", 1)[-1] == "router" or name.endswith("_router"))]
    assert bad == []


def test_routers_run_no_sql_and_skip_no_layer() -> None:
    forbidden = ("aiosqlite", "sqlite3", "api.core.database")
    bad = [f"{path} imports {name}" for path, names in all_imports(API).items() if is_router(path) for name in names
           if hits(name, forbidden) or (name.startswith("api.") and "store" in name.rsplit(".", 1)[-1])]
    assert bad == []


def test_the_training_child_knows_nothing_of_the_server() -> None:
    allowed = ("api.training.child", "api.core.offline", "api.core.memory")
    bad = [f"{path} imports {name}" for path, names in all_imports(API / "training" / "child").items()
           for name in names if (name.startswith("api") and not hits(name, allowed))
           or hits(name, (*WEB, "aiosqlite"))]
    assert bad == []


def test_the_stream_worker_knows_nothing_of_the_server() -> None:
    """It runs in its own process: a WorkerSpec in, messages out (the shapes of zones and lines it shares)."""
    allowed = ("api.streams.worker", "api.streams.schemas", "api.core.offline")
    bad = [f"{path} imports {name}" for path, names in all_imports(API / "streams" / "worker").items()
           for name in names if (name.startswith("api") and not hits(name, allowed))
           or hits(name, (*WEB, "aiosqlite"))]
    assert bad == []


def test_core_knows_no_domain() -> None:
    bad = [f"{path} imports {name}" for path, names in all_imports(API / "core").items() for name in names
           if hits(name, (*DOMAINS, "api.container", "api.main", "api.dependencies"))]
    assert bad == []


def test_bot_talks_http_only() -> None:
    bad = [f"{path} imports {name}" for path, names in all_imports(ROOT / "telegram_bot").items()
           for name in names if hits(name, ("api",))]
    assert bad == []


def test_flat_cross_domain_folders_are_gone() -> None:
    assert [name for name in ("services", "routes", "models", "trainers") if (API / name).exists()] == []


def test_no_import_cycle_between_modules() -> None:
    modules = {module_name(ROOT / path): names for path, names in all_imports(API).items()}
    graph = {module: {name for name in names if name in modules and name != module} for module, names in modules.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt):], nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_no_module_in_api_is_over_300_lines() -> None:
    long = {str(path.relative_to(ROOT)): n for path in API.rglob("*.py") if (n := len(path.read_text().splitlines())) > 300}
    assert long == {}


def test_only_stores_touch_the_database() -> None:
    """One store convention: in every domain, SQL lives in its *store modules (and registry/in_use.py, the one
    transaction two registries share); services get stores, never the database."""
    domain_folders = [API / name.removeprefix("api.").replace(".", "/") for name in DOMAINS]
    bad = [f"{path} imports {name}" for folder in domain_folders for path, names in all_imports(folder).items()
           if "store" not in Path(path).stem and Path(path).name != "in_use.py" for name in names
           if hits(name, ("api.core.database", "aiosqlite", "sqlite3", "api.core.pagination", "api.core.write_buffer"))]
    assert bad == []
