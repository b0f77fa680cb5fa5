"""Auth against a real uvicorn server: missing, wrong, revoked keys, roles, lockout, the attempt log."""

from __future__ import annotations

import pytest

from tests.helpers import ADMIN_KEY, LiveServer, make_settings


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


async def test_health_needs_no_key(live_server: LiveServer) -> None:
    async with live_server.client(key=None) as http:
        response = await http.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["uptime_s"] >= 0


async def test_missing_and_wrong_keys_get_401_in_error_shape(live_server: LiveServer) -> None:
    async with live_server.client(key=None) as http:
        assert_error(await http.get("/auth/me"), 401, "missing_key")
        assert_error(await http.get("/auth/me", headers={"X-API-Key": "tk_wrong"}), 401, "unknown_key")
        assert_error(await http.get("/auth/me", headers={"Authorization": "Bearer tk_wrong"}), 401, "unknown_key")


async def test_bearer_and_header_keys_both_work(live_server: LiveServer) -> None:
    async with live_server.client(key=None) as http:
        by_header = await http.get("/auth/me", headers={"X-API-Key": ADMIN_KEY})
        by_bearer = await http.get("/auth/me", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert by_header.status_code == by_bearer.status_code == 200
    assert by_header.json()["key"]["role"] == "admin"
    assert by_header.json()["key"]["source"] == "config"


async def test_roles_get_exactly_their_rights(live_server: LiveServer) -> None:
    async with live_server.client() as admin:
        keys = {}
        for role in ("viewer", "operator"):
            created = await admin.post("/keys", json={"name": f"{role}-key", "role": role})
            assert created.status_code == 201
            assert created.json()["key"].startswith("tk_")
            keys[role] = created.json()["key"]
    for role, plain in keys.items():
        async with live_server.client(key=plain) as http:
            me = await http.get("/auth/me")
            assert me.json()["key"]["role"] == role
            assert (await http.get("/system")).status_code == 200
            error = assert_error(await http.get("/keys"), 403, "forbidden")
            assert error["details"] == {"required_role": "admin", "key_role": role}
            assert_error(await http.post("/keys", json={"name": "x"}), 403, "forbidden")


async def test_plain_key_is_never_listed_again(live_server: LiveServer) -> None:
    async with live_server.client() as admin:
        created = (await admin.post("/keys", json={"name": "once", "role": "viewer"})).json()
        listed = (await admin.get("/keys")).json()
    assert created["key"] not in str(listed)
    assert {"name": "once", "prefix": created["key"][:8]}.items() <= next(
        k for k in listed["items"] if k["id"] == created["id"]
    ).items()


async def test_revoked_key_gets_401_and_revoking_twice_is_409(live_server: LiveServer) -> None:
    async with live_server.client() as admin:
        created = (await admin.post("/keys", json={"name": "temp", "role": "operator"})).json()
        async with live_server.client(key=created["key"]) as http:
            assert (await http.get("/auth/me")).status_code == 200
            revoked = await admin.delete(f"/keys/{created['id']}")
            assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
            assert_error(await http.get("/auth/me"), 401, "revoked_key")
        assert_error(await admin.delete(f"/keys/{created['id']}"), 409, "already_revoked")
        assert_error(await admin.delete("/keys/999999"), 404, "not_found")


async def test_attempts_are_logged_without_the_key(live_server: LiveServer) -> None:
    async with live_server.client(key=None) as http:
        await http.get("/system", headers={"X-API-Key": "tk_secret-guess"})
    async with live_server.client() as admin:
        attempts = (await admin.get("/auth/attempts", params={"limit": 100})).json()
    failed = [a for a in attempts["items"] if a["outcome"] == "unknown_key"]
    assert failed and failed[0]["path"] == "/api/v1/system" and failed[0]["client"] == "127.0.0.1"
    assert failed[0]["key_id"] is None
    assert any(a["outcome"] == "ok" and a["key_id"] == 1 for a in attempts["items"])
    assert "tk_secret-guess" not in str(attempts)
    log_text = (live_server.settings.data_dir / "server.db").read_bytes()
    assert b"tk_secret-guess" not in log_text and ADMIN_KEY.encode() not in log_text


async def test_repeated_failures_lock_the_client_out_with_retry_after(tmp_path) -> None:
    settings = make_settings(tmp_path / "data", auth_max_failures=3, auth_lockout_s=120)
    with LiveServer(settings) as server:
        async with server.client(key="tk_wrong") as http:
            for _ in range(3):
                assert (await http.get("/auth/me")).status_code == 401
            locked = await http.get("/auth/me")
            # A valid key passes: keys are 256-bit random, so the lockout is against noise (fuzzers, broken scripts),
            # and must not lock out the bot or an operator behind the same address.
            valid = await http.get("/auth/me", headers={"X-API-Key": ADMIN_KEY})
            still_locked = await http.get("/auth/me")
    error = assert_error(locked, 429, "auth_locked_out")
    assert 0 < int(locked.headers["Retry-After"]) <= 121
    assert error["details"]["retry_after_s"] == int(locked.headers["Retry-After"])
    assert valid.status_code == 200
    assert_error(still_locked, 429, "auth_locked_out")


@pytest.mark.parametrize("role", ["viewer", "nobody"])
async def test_create_key_validates_role(live_server: LiveServer, role: str) -> None:
    async with live_server.client() as admin:
        response = await admin.post("/keys", json={"name": "k", "role": role})
    if role == "viewer":
        assert response.status_code == 201
    else:
        error = assert_error(response, 422, "validation_error")
        assert error["details"]["fields"][0]["field"] == "body.role"
