"""Browser tests: Playwright for Python driving Debian's `chromium` (no browser download) against a real server.

`ensure_chromium()` installs the Debian package when it is missing and the tests run as root with apt-get (as CI
does); elsewhere the tests skip with the reason. Screenshots go to $TEST_ARTIFACTS (default
tests/browser/artifacts/, git-ignored).
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.debian import apt_install

CHROMIUM = "/usr/bin/chromium"
INSTALL_TIMEOUT_S = 300  # update + install; a fresh install measured ~40 s
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run", "--disable-default-apps", "--disable-extensions",
               "--disable-domain-reliability", "--disable-client-side-phishing-detection"]
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS") or Path(__file__).resolve().parent / "artifacts")


def _works() -> bool:
    if not Path(CHROMIUM).is_file():
        return False
    try:
        return subprocess.run([CHROMIUM, "--version"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@functools.cache  # once per test session (per process)
def ensure_chromium() -> str | None:
    """None when Debian's chromium runs here (installing it first if needed and allowed), else why not."""
    if _works():
        return None
    why = apt_install(["chromium"], what="chromium", timeout_s=INSTALL_TIMEOUT_S)
    if why:
        return why
    return None if _works() else f"{CHROMIUM} does not run after installing the chromium package"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium per module."""
    why = ensure_chromium()
    if why:
        pytest.skip(why)
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            yield instance
        finally:
            instance.close()


@dataclass
class PageLog:
    """What a page did: every request's URL, console errors and uncaught exceptions."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def outside(self, base: str) -> list[str]:
        return [url for url in self.requests if not url.startswith((base + "/", "blob:", "data:"))]

    def console_errors(self, *, ignore_failed_loads: bool = False) -> list[str]:
        """With ignore_failed_loads, Chromium's own line for an HTTP error answer (which a test provoked) is left out."""
        return [e for e in self.errors if not (ignore_failed_loads and "Failed to load resource" in e)]


def open_page(browser: Any, *, viewport: dict[str, int] | None = None) -> tuple[Any, Any, PageLog]:
    """A fresh context (its own sessionStorage) and page that records its requests and errors."""
    context = browser.new_context(viewport=viewport or {"width": 1366, "height": 900})
    page = context.new_page()
    log = PageLog()
    page.on("request", lambda request: log.requests.append(request.url))
    page.on("websocket", lambda socket: log.requests.append(socket.url))
    page.on("console", lambda message: message.type == "error" and log.errors.append(message.text))
    page.on("pageerror", lambda error: log.errors.append(f"uncaught: {error}"))
    page.set_default_timeout(20_000)
    return context, page, log


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.evaluate("() => window.scrollTo(0, 0)")  # the sticky header would be drawn where the page was scrolled to
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page: Any, base: str, key: str) -> None:
    page.goto(f"{base}/ui/")
    page.get_by_test_id("signin-key").fill(key)
    page.get_by_test_id("signin-submit").click()
