"""Every error status comes in the one shape, and no input gives a bare 500."""

from __future__ import annotations

from api.auth.service import AuthManager
from tests.helpers import LiveServer, make_settings
from tests.integration.test_auth_server import assert_error


async def test_404_405_415_422_in_error_shape(live_server: LiveServer) -> None:
    async with live_server.client() as http:
        assert_error(await http.get("/no/such/route"), 404, "not_found")
        assert_error(await http.get("/datasets/999999"), 404, "dataset_not_found")
        assert_error(await http.put("/keys", json={}), 405, "method_not_allowed")
        assert_error(await http.post("/keys", content=b"name=x", headers={"Content-Type": "text/plain"}), 415)
        error = assert_error(await http.post("/keys", json={"role": "admin"}), 422, "validation_error")
        assert [f["field"] for f in error["details"]["fields"]] == ["body.name"]
        error = assert_error(await http.get("/system/history", params={"minutes": "-1", "limit": "x"}), 422)
        assert {f["field"] for f in error["details"]["fields"]} == {"query.minutes", "query.limit"}
        assert_error(await http.post("/keys", content=b"{not json", headers={"Content-Type": "application/json"}), 422)


async def test_413_for_a_body_over_the_limit_before_it_is_read(tmp_path) -> None:
    settings = make_settings(tmp_path / "data", max_upload_mb=1)
    with LiveServer(settings) as server:
        async with server.client() as http:
            declared = await http.post("/keys", content=b"x" * (2 * 1024 * 1024), headers={"Content-Type": "application/json"})

            async def chunks():
                for _ in range(40):
                    yield b"y" * 65536

            streamed = await http.post("/keys", content=chunks(), headers={"Content-Type": "application/json"})
    assert_error(declared, 413, "payload_too_large")
    assert_error(streamed, 413, "payload_too_large")


async def test_unexpected_exception_is_a_500_in_shape_with_request_id(live_server: LiveServer, monkeypatch) -> None:
    def explode(self, **_kw):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(AuthManager, "list_keys", explode)
    async with live_server.client() as http:
        response = await http.get("/keys")
    error = assert_error(response, 500, "internal_error")
    assert error["details"]["request_id"] == response.headers["x-request-id"]
    assert "secret" not in response.text and "Traceback" not in response.text


async def test_openapi_declares_auth_schemes_and_error_model(live_server: LiveServer) -> None:
    async with live_server.client(key=None) as http:
        spec = (await http.get("/openapi.json")).json()
        docs = await http.get(live_server.url + "/docs")
    assert docs.status_code == 200
    assert {"APIKeyHeader", "HTTPBearer"} <= set(spec["components"]["securitySchemes"])
    assert "ErrorResponse" in spec["components"]["schemas"]
    assert "401" in spec["paths"]["/api/v1/system"]["get"]["responses"]
