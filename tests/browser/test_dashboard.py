"""The dashboard at /ui/ in a real headless Chromium against a real server: sign in, start a run on the built-in
data and watch it complete with its charts drawn, recognize photos, a viewer key sees no write buttons, nothing is
requested outside the server, no console errors. Screenshots of each page go to the artifacts folder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.conftest import open_page, screenshot, sign_in
from tests.helpers import ADMIN_KEY, LiveServer, make_settings
from tests.videos import write_video

pytestmark = [pytest.mark.browser, pytest.mark.training]
expect = pytest.importorskip("playwright.sync_api").expect
expect.set_options(timeout=20_000)
CHART_DRAWN = ("(testid) => [...document.querySelectorAll(`[data-testid=${testid}]`)]"
               ".some((el) => el.dataset.drawn && Number(el.dataset.points) > 0)")
WRITE_CONTROLS = "button.write, .write, [data-testid=recognize-input], [data-testid=new-run-form]"
IMAGES_LOADED = ("(selector) => { const imgs = [...document.querySelectorAll(selector)];"
                 " return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0); }")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with LiveServer(make_settings(tmp_path_factory.mktemp("ui") / "data")) as live:
        yield live


def admin(server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=server.url + "/api/v1", headers={"X-API-Key": ADMIN_KEY}, timeout=60)


def admin_get(server: LiveServer, path: str) -> Any:
    with admin(server) as http:
        response = http.get(path)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def viewer_key(server: LiveServer) -> str:
    with admin(server) as http:
        created = http.post("/keys", json={"name": "ui-viewer", "role": "viewer"})
        assert created.status_code == 201, created.text
        return str(created.json()["key"])


def photos(server: LiveServer, count: int = 3) -> list[Path]:
    """Validation images of the built-in shapes dataset, as the server stored them."""
    found = sorted((server.settings.data_dir / "datasets" / "1" / "images" / "val").glob("*.jpg"))[:count]
    assert len(found) == count
    return found


def go(page: Any, route: str) -> None:
    page.evaluate("(route) => { location.hash = route; }", route)


def assert_clean(log: Any, server: LiveServer, *, ignore_failed_loads: bool = False) -> None:
    ws_base = server.url.replace("http://", "ws://", 1)
    assert [url for url in log.outside(server.url) if not url.startswith(ws_base + "/")] == []
    assert log.console_errors(ignore_failed_loads=ignore_failed_loads) == []


def test_ui_is_static_with_strict_headers(server: LiveServer) -> None:
    page = httpx.get(server.url + "/ui/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe" not in csp
    assert page.headers["x-frame-options"] == "DENY" and page.headers["referrer-policy"] == "no-referrer"
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page.text) == [] and "style=" not in page.text
    redirect = httpx.get(server.url + "/ui")
    assert redirect.status_code == 308 and redirect.headers["location"] == "/ui/"
    script = httpx.get(server.url + "/ui/js/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert httpx.get(server.url + "/ui/../api/main.py").status_code == 404


def test_wrong_key_and_validation_errors_are_shown(browser: Any, server: LiveServer) -> None:
    context, page, log = open_page(browser)
    try:
        sign_in(page, server.url, "tk_not-a-key-0000000000000000")
        expect(page.get_by_test_id("signin-error")).to_contain_text("not accepted")
        assert page.evaluate("() => sessionStorage.getItem('apiKey')") is None
        page.get_by_test_id("signin-key").fill(ADMIN_KEY)
        page.get_by_test_id("signin-submit").click()
        page.get_by_test_id("new-run-dataset").select_option("1")
        page.get_by_test_id("new-run-epochs").fill("1")
        page.get_by_test_id("new-run-imgsz").fill("65")  # not a multiple of 32: the server's 422 names the field
        page.get_by_test_id("new-run-submit").click()
        expect(page.get_by_test_id("error-imgsz")).not_to_be_empty()
        assert admin_get(server, "/sessions")["total"] == 0
        screenshot(page, "validation-error")
        assert_clean(log, server, ignore_failed_loads=True)  # the 401 and the 422 were asked for
    finally:
        context.close()


def test_admin_starts_a_run_uploads_a_model_and_recognizes_photos(browser: Any, server: LiveServer,
                                                                  trained_weights: Path) -> None:
    context, page, log = open_page(browser)
    try:
        sign_in(page, server.url, ADMIN_KEY)
        page.get_by_test_id("new-run-dataset").select_option("1")
        page.get_by_test_id("new-run-model").select_option("yolov8n.yaml")
        page.get_by_test_id("new-run-epochs").fill("2")
        page.get_by_test_id("new-run-imgsz").fill("64")
        page.get_by_test_id("new-run-device").select_option("cpu")
        page.get_by_test_id("new-run-submit").click()
        expect(page).to_have_url(re.compile(r"#/runs/\d+$"))
        expect(page.get_by_test_id("session-status")).to_have_text("completed", timeout=180_000)
        page.wait_for_function(CHART_DRAWN, arg="metric-chart")
        expect(page.get_by_test_id("run-logs")).not_to_be_empty()
        screenshot(page, "run-page")

        go(page, "#/runs")
        expect(page.locator("[data-testid=session-row][data-status=completed]")).to_have_count(1)
        page.get_by_test_id("status-filter").select_option("failed")
        expect(page.get_by_test_id("session-row")).to_have_count(0)
        page.get_by_test_id("status-filter").select_option("")
        screenshot(page, "runs-page")

        go(page, "#/models")  # the file input inside the drop zone: what a drop hands over too
        page.get_by_test_id("model-upload").set_input_files(str(trained_weights))
        expect(page.get_by_test_id("model-upload-message")).to_contain_text("Uploaded", timeout=120_000)
        shapes_model = int(re.findall(r"#(\d+)", page.get_by_test_id("model-upload-message").inner_text())[0])

        go(page, "#/recognize")
        page.get_by_test_id("recognize-model").select_option(str(shapes_model))
        page.get_by_test_id("recognize-expected").fill("3")
        page.get_by_test_id("recognize-input").set_input_files([str(p) for p in photos(server)])
        expect(page.get_by_test_id("recognize-verdict")).to_have_count(3, timeout=60_000)
        for verdict in page.get_by_test_id("recognize-verdict").all_text_contents():
            assert verdict in ("complete", "incomplete")
        expect(page.get_by_test_id("recognize-timings")).to_contain_text("inference")
        page.wait_for_function(IMAGES_LOADED, arg="[data-testid=recognize-image] img")
        expect(page.get_by_test_id("history-item")).to_have_count(1)
        screenshot(page, "recognize-page")

        visit_every_other_page(page, shapes_model)
        assert_clean(log, server)
    finally:
        context.close()


def visit_every_other_page(page: Any, model_id: int) -> None:
    go(page, f"#/models/{model_id}")
    expect(page.get_by_test_id("model-download")).to_be_visible()
    expect(page.get_by_test_id("model-export")).to_be_visible()
    screenshot(page, "model-page")
    go(page, "#/models")
    expect(page.get_by_test_id("model-row")).to_have_count(2)  # the upload and the run's own model
    screenshot(page, "models-page")
    go(page, "#/datasets/1")
    page.wait_for_function(IMAGES_LOADED, arg="[data-testid=dataset-samples] img")
    screenshot(page, "dataset-page")
    go(page, "#/datasets")
    expect(page.get_by_test_id("dataset-row")).to_have_count(2)
    screenshot(page, "datasets-page")
    go(page, "#/streams")
    expect(page.get_by_test_id("stream-list")).to_contain_text("No streams")
    screenshot(page, "streams-page")
    go(page, "#/system")
    page.wait_for_function(CHART_DRAWN, arg="system-chart")
    screenshot(page, "system-page")


def test_stream_page_shows_the_live_preview_tracks_and_applies_settings(browser: Any, server: LiveServer,
                                                                       tracking_weights: Path, tmp_path: Path) -> None:
    with admin(server) as http:
        model = http.post("/models", files={"file": ("tracker.pt", tracking_weights.read_bytes())})
        assert model.status_code == 201, model.text
        video = http.post("/videos", files={"file": ("paths.mp4", write_video(tmp_path / "paths.mp4").read_bytes())})
        assert video.status_code == 201, video.text
        created = http.post("/streams", json={"name": "tray", "source": f"video:{video.json()['id']}",
                                              "model": model.json()["id"], "conf": 0.3,
                                              "lines": [{"name": "middle", "start": [0.5, 0.0], "end": [0.5, 1.0]}]})
        assert created.status_code == 201, created.text
    context, page, log = open_page(browser)
    try:
        sign_in(page, server.url, ADMIN_KEY)
        go(page, "#/streams")
        expect(page.locator("[data-testid=stream-row][data-status=running]")).to_have_count(1, timeout=60_000)
        page.get_by_test_id("stream-row").get_by_role("link").click()
        # frames read from preview.mjpeg with fetch() (the key in a header) and shown as blob: URLs
        page.wait_for_function("() => Number(document.querySelector('[data-testid=stream-preview]')?.dataset.frames ?? 0) >= 3")
        expect(page.get_by_test_id("stream-tracks").locator("tr").first).to_be_visible()
        expect(page.get_by_test_id("stream-counts")).to_contain_text("line middle")
        page.locator("#f-conf").fill("0.35")
        page.get_by_test_id("stream-apply").click()
        expect(page.get_by_test_id("stream-settings")).to_contain_text("Applied.")
        assert admin_get(server, f"/streams/{created.json()['id']}")["conf"] == 0.35
        screenshot(page, "stream-page")
        go(page, "#/streams")
        page.get_by_test_id("stream-stop").click()
        expect(page.locator("[data-testid=stream-row][data-status=stopped]")).to_have_count(1, timeout=30_000)
        screenshot(page, "streams-page-stopped")
        assert_clean(log, server)
    finally:
        context.close()


def test_viewer_on_a_phone_sees_no_write_buttons(browser: Any, server: LiveServer, viewer_key: str) -> None:
    context, page, log = open_page(browser, viewport={"width": 390, "height": 844})
    try:
        sign_in(page, server.url, viewer_key)
        expect(page.get_by_test_id("who")).to_contain_text("viewer")
        sessions = admin_get(server, "/sessions")["items"]
        models = admin_get(server, "/models")["items"]
        # each page with what shows it has loaded its data (its buttons come with the data)
        routes = {"#/runs": "session-list", "#/models": "model-list", "#/datasets": "dataset-row",
                  "#/datasets/1": "dataset-counts", "#/recognize": "history-grid", "#/streams": "stream-list",
                  "#/system": "system-chart"}
        routes |= {f"#/runs/{s['id']}": "run-details" for s in sessions[:1]}
        routes |= {f"#/models/{m['id']}": "metrics-table" for m in models[:1]}
        for route, loaded in routes.items():
            go(page, route)
            page.wait_for_function("(id) => document.querySelector(`[data-testid=${id}]`)?.childElementCount > 0", arg=loaded)
            page.wait_for_timeout(300)
            assert page.locator(WRITE_CONTROLS).count() == 0, route
            screenshot(page, "phone-viewer-" + route.strip("#/").replace("/", "-"))
        assert_clean(log, server)
    finally:
        context.close()
