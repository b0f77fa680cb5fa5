"""Every route of the app has a section in API_DOCUMENTATION.md (with a curl example)."""

from __future__ import annotations

import re
from pathlib import Path

from api.main import API_PREFIX, create_app
from tests.helpers import make_settings

DOC = (Path(__file__).resolve().parents[2] / "API_DOCUMENTATION.md").read_text()


def documented() -> set[str]:
    return {re.sub(r"\{[^}]+\}", "{id}", m) for m in re.findall(r"^### `([A-Z]+ [^`?]+)", DOC, re.M)}


def test_every_route_is_documented(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    routes = [f"{method.upper()} {path}" for path, item in app.openapi()["paths"].items() for method in item]
    routes.append(f"WS {API_PREFIX}/events")
    normalised = {re.sub(r"\{[^}]+\}", "{id}", route.replace(API_PREFIX, "", 1)) for route in routes}
    assert len(normalised) > 20
    assert sorted(normalised - documented()) == []


def test_every_section_has_a_curl_example() -> None:
    sections = re.split(r"^### ", DOC, flags=re.M)[1:]
    without = [s.splitlines()[0] for s in sections if "curl" not in s and "websocat" not in s]
    assert without == []
