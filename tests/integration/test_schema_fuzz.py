"""Schemathesis over the whole /openapi.json against a real server: no 5xx for any generated request, and
every response (errors included) is what the schema says. Bounded for the suite: SCHEMA_FUZZ_EXAMPLES
(default 8) examples per operation; a release check runs more (see README, Reliability)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.main import API_PREFIX
from tests.helpers import ADMIN_KEY, LiveServer, make_settings

pytestmark = pytest.mark.reliability

EXAMPLES = int(os.environ.get("SCHEMA_FUZZ_EXAMPLES", "8"))
# These start child processes (training, validation, ONNX export): the training tests drive them for real.
# DELETE /keys/{id} is fuzzed too: the fuzzer's own key comes from API_KEYS, which the API refuses to revoke.
SPAWNING = ("POST /api/v1/sessions", "POST /api/v1/sessions/{session_id}/resume",
            "POST /api/v1/models/{model_id}/evaluate", "POST /api/v1/models/{model_id}/export")


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data = tmp_path_factory.mktemp("fuzz") / "data"
    with LiveServer(make_settings(data, auth_max_failures=1_000_000)) as server:
        yield server


@pytest.fixture(scope="module")
def api_schema(fuzz_server: LiveServer) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_url(f"{fuzz_server.url}{API_PREFIX}/openapi.json")
    return schema.exclude(method="POST", path_regex=r"^/api/v1/(sessions$|sessions/\{[^}]+\}/resume$|"
                                                     r"models/\{[^}]+\}/(evaluate|export)$)")


def not_a_server_error(response: schemathesis.Response) -> None:
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"


def fuzz(api_schema: schemathesis.BaseSchema, examples: int, check: Callable[[schemathesis.Case], None]) -> list[str]:
    """Runs `check` on generated cases of every operation; returns the findings (operation: error), all of them.
    (Schemathesis' pytest plugin does not run on pytest 9, so Hypothesis is driven directly.)"""
    findings = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None, phases=[Phase.explicit, Phase.generate])
        def run(case: schemathesis.Case) -> None:
            check(case)

        try:
            run()
        except Exception as exc:  # one finding per operation is enough to act on
            findings.append(f"{operation.method.upper()} {operation.path}: {type(exc).__name__}: {str(exc)[:600]}")
    return findings


def test_with_an_admin_key_nothing_breaks_and_responses_match_the_schema(api_schema: schemathesis.BaseSchema) -> None:
    def check(case: schemathesis.Case) -> None:
        response = case.call(headers={"X-API-Key": ADMIN_KEY}, timeout=30)
        not_a_server_error(response)
        case.validate_response(response, checks=[response_schema_conformance])

    findings = fuzz(api_schema, EXAMPLES, check)
    assert not findings, "\n\n".join(findings)


def test_without_a_key_every_operation_but_health_is_refused(api_schema: schemathesis.BaseSchema) -> None:
    def check(case: schemathesis.Case) -> None:
        response = case.call(timeout=30)
        not_a_server_error(response)
        if case.path != f"{API_PREFIX}/health":
            assert response.status_code in (401, 413, 415), (case.method, case.path, response.status_code)
        case.validate_response(response, checks=[response_schema_conformance])

    findings = fuzz(api_schema, 2, check)
    assert not findings, "\n\n".join(findings)


def test_spawning_operations_are_covered_elsewhere() -> None:
    tests = Path(__file__).parent
    text = " ".join(p.read_text() for p in tests.glob("test_*.py"))
    assert all(op.split()[1].replace(API_PREFIX, "").split("{")[0].rstrip("/").rsplit("/", 1)[-1] in text
               for op in SPAWNING)
