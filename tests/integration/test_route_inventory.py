"""Every route of the app, enumerated: all but /health refuse a missing or wrong key, and each role gets
exactly what DESIGN.md gives it (viewer reads; operator also writes and downloads whole datasets; admin also
keys, attempts, the audit log, model uploads and session deletes). A new route is covered the day it is added."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from api.main import API_PREFIX, create_app
from tests.helpers import ADMIN_KEY, make_settings

pytestmark = pytest.mark.reliability

RANK = {"viewer": 0, "operator": 1, "admin": 2}
ADMIN_ONLY = {("GET", "/keys"), ("POST", "/keys"), ("DELETE", "/keys/{id}"), ("GET", "/auth/attempts"),
              ("GET", "/audit"), ("POST", "/models"), ("DELETE", "/sessions/{id}"), ("POST", "/streams"),
              ("DELETE", "/streams/{id}"), ("GET", "/streams/config"), ("PUT", "/streams/config")}
# Reads that are more than a viewer's: a whole dataset (viewers see its samples); cluster workers' tokens read it too.
OPERATOR_READS = {("GET", "/datasets/{id}/archive")}


def expected_role(method: str, path: str) -> str | None:
    """DESIGN.md's rule for a route (path without the prefix, parameters as {id})."""
    if path == "/health":
        return None
    if (method, path) in ADMIN_ONLY:
        return "admin"
    if (method, path) in OPERATOR_READS:
        return "operator"
    return "viewer" if method == "GET" else "operator"


def inventory() -> list[tuple[str, str, str]]:
    """(method, concrete path, normalised path) of every HTTP route (no route is left out of the schema)."""
    app = create_app(make_settings(Path("/nonexistent")))
    found = []
    for full_path, item in app.openapi()["paths"].items():
        path = full_path.removeprefix(API_PREFIX)
        for method in item:
            found.append((method.upper(), re.sub(r"\{[^}]+\}", "999999", path), re.sub(r"\{[^}]+\}", "{id}", path)))
    return found


ROUTES = inventory()


@pytest.fixture
async def clients(tmp_path) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    app = create_app(make_settings(tmp_path / "data", auth_max_failures=100_000))
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=60):
        transport = httpx.ASGITransport(app=app)
        base = "http://test" + API_PREFIX
        async with httpx.AsyncClient(transport=transport, base_url=base, headers={"X-API-Key": ADMIN_KEY}) as admin:
            keys = {"admin": ADMIN_KEY}
            for role in ("viewer", "operator"):
                created = await admin.post("/keys", json={"name": f"inventory-{role}", "role": role})
                keys[role] = created.json()["key"]
            clients = {name: httpx.AsyncClient(transport=transport, base_url=base, headers={"X-API-Key": key})
                       for name, key in keys.items()}
            clients["none"] = httpx.AsyncClient(transport=transport, base_url=base)
            clients["wrong"] = httpx.AsyncClient(transport=transport, base_url=base, headers={"X-API-Key": "tk_wrong"})
            clients["bearer_wrong"] = httpx.AsyncClient(transport=transport, base_url=base,
                                                        headers={"Authorization": "Bearer tk_wrong"})
            try:
                yield clients
            finally:
                for client in clients.values():
                    await client.aclose()


def test_the_inventory_is_complete_and_every_route_has_a_rule() -> None:
    assert len(ROUTES) > 30
    assert {normalised for _, _, normalised in ROUTES} >= {"/health", "/keys/{id}", "/sessions/{id}/metrics"}


async def test_every_route_but_health_refuses_a_missing_or_wrong_key(clients: dict[str, httpx.AsyncClient]) -> None:
    for method, path, normalised in ROUTES:
        for who in ("none", "wrong", "bearer_wrong"):
            response = await clients[who].request(method, path)
            if expected_role(method, normalised) is None:
                assert response.status_code == 200, (method, path, who)
                continue
            assert response.status_code == 401, (method, path, who, response.status_code)
            assert response.json()["error"]["code"] in {"missing_key", "unknown_key"}


async def test_each_role_gets_exactly_its_routes(clients: dict[str, httpx.AsyncClient]) -> None:
    for method, path, normalised in ROUTES:
        needed = expected_role(method, normalised)
        if needed is None:
            continue
        for role in ("viewer", "operator", "admin"):
            response = await clients[role].request(method, path)
            allowed = RANK[role] >= RANK[needed]
            assert response.status_code < 500, (method, path, role, response.text)
            if allowed:  # past auth: whatever the empty request deserves (404, 422, 200), never 401/403
                assert response.status_code not in (401, 403), (method, path, role, response.text)
            else:
                assert response.status_code == 403, (method, path, role, response.status_code)
                assert response.json()["error"]["details"]["required_role"] == needed
