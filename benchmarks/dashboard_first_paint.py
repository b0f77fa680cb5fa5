"""Dashboard first paint in headless Chromium: the runs page with 1,000 sessions, a run page with a 100k-point chart.

    .venv/bin/python benchmarks/dashboard_first_paint.py            # 5 loads of each page
    .venv/bin/python benchmarks/dashboard_first_paint.py --quick    # 2 loads of each

A real server (run_api.py) on a fresh data dir. The API cannot make 1,000 finished sessions quickly (each would
train), so after a first start has created the database they are written straight into its SQLite file, with
100,000 per-batch loss points for the newest one, and the server is started again. Then Playwright drives Debian's
chromium (as the browser tests do; installed when missing) with the key put in sessionStorage before the page
loads, and the Performance API says, from the start of navigation:
- runs page: first contentful paint, and the moment all 1,000 rows are in the DOM (then painted next frame);
- run page: the moment uPlot finished drawing the 100k-point "Batch losses" chart (its draw hook's mark).
Each load is a fresh page (nothing cached in memory; the static files are revalidated by ETag).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import KEY  # noqa: E402
from tests.browser.conftest import CHROMIUM, LAUNCH_ARGS, ensure_chromium  # noqa: E402
from tests.helpers import ServerProcess  # noqa: E402

SESSIONS = 1000
POINTS = 100_000
TARGET_MS = 1000.0
EPOCH_KEYS = ("train/box_loss", "train/cls_loss", "train/dfl_loss", "val/box_loss", "metrics/mAP50(B)",
              "metrics/mAP50-95(B)", "lr/pg0")
STATUSES = ("completed", "completed", "completed", "failed", "stopped", "cancelled")


def fill_database(db_path: Path) -> int:
    """1,000 finished sessions; the last gets 100 epochs of per-epoch metrics and 100k batch-loss points."""
    now = time.time()
    config = json.dumps({"model": "yolov8n.yaml", "architecture": "yolov8n.yaml", "epochs": 100, "batch": 16,
                         "imgsz": 128, "device": "cpu"})
    latest = json.dumps({key: 0.5 for key in EPOCH_KEYS})
    rows = [(f"bench-{i}", "detect", "yolov8n.yaml", 1, config, STATUSES[i % len(STATUSES)], "cpu",
             now - (SESSIONS - i) * 60, now - (SESSIONS - i) * 60 + 1, now - (SESSIONS - i) * 60 + 50, 100, 100,
             1000, latest) for i in range(SESSIONS)]
    with sqlite3.connect(db_path) as db:
        db.executemany("INSERT INTO sessions (name, task, model, dataset_id, config, status, device, created_at, "
                       "started_at, ended_at, epoch, epochs, batches, latest_metrics) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        last = int(db.execute("SELECT max(id) FROM sessions").fetchone()[0])
        batch_points = [(last, "batch/train/box_loss", step, step // 1000 + 1, 2.0 * math.exp(-step / 30000)
                         + 0.05 * math.sin(step / 50), now) for step in range(1, POINTS + 1)]
        epoch_points = [(last, key, epoch, epoch, 1.0 / epoch, now) for key in EPOCH_KEYS for epoch in range(1, 101)]
        db.executemany("INSERT INTO metrics (session_id, key, step, epoch, value, ts) VALUES (?, ?, ?, ?, ?, ?)",
                       batch_points + epoch_points)
    return last


def measure(browser: Any, url: str, route: str, done_js: str, marks_js: str) -> dict[str, float]:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    # A signed-in tab: the key and what GET /auth/me said of it (as the sign-in page leaves them).
    who = json.dumps({"role": "admin", "name": "benchmark"})
    context.add_init_script(f"sessionStorage.setItem('apiKey', {json.dumps(KEY)});"
                            f"sessionStorage.setItem('apiKeyWho', {json.dumps(who)})")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    try:
        page.goto(f"{url}/ui/{route}", wait_until="commit")
        page.wait_for_function(done_js, timeout=60_000)
        page.wait_for_timeout(100)  # the frame after it, for first-contentful-paint
        times = page.evaluate(marks_js)
        if errors:
            raise RuntimeError(f"console errors: {errors}")
        return {key: float(value if value is not None else "nan") for key, value in times.items()}
    finally:
        context.close()


FCP = "performance.getEntriesByName('first-contentful-paint')[0]?.startTime"
# The pages' own marks (their render code sets them), in ms from the start of navigation.
RUNS_DONE = f"() => document.querySelectorAll('[data-testid=session-row]').length === {SESSIONS}"
RUNS_MARKS = (f"() => {{ const m = performance.getEntriesByName('runs-rendered').filter((e) => e.detail > 0);"
              f" return {{fcp: {FCP}, first: m[0]?.startTime, done: m.find((e) => e.detail === {SESSIONS})?.startTime}}; }}")
CHART_DONE = ("() => { const el = document.querySelector('[data-title=\"Batch losses\"]');"
              f" return el && el.dataset.drawn && Number(el.dataset.points) >= {POINTS}; }}")
CHART_MARKS = (f"() => ({{fcp: {FCP}, first: performance.getEntriesByName('run-shown')[0]?.startTime,"
               " done: performance.getEntriesByName('chart-drawn:Batch losses')[0]?.startTime})")


def report(name: str, samples: list[dict[str, float]], what: str) -> None:
    def cell(key: str) -> str:
        values = [s[key] for s in samples]
        return f"p50 {statistics.median(values):6.0f} max {max(values):6.0f} ms"

    done = [s["done"] for s in samples]
    verdict = "OK" if max(done) < TARGET_MS else "OVER"
    print(f"{name:<32} first contentful paint {cell('fcp')} | first data {cell('first')} | {what} {cell('done')}"
          f" | target < {TARGET_MS:.0f} ms: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    loads = 2 if args.quick else 5
    why = ensure_chromium()
    if why:
        sys.exit(why)
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        data_dir = Path(tmp) / "data"
        first = ServerProcess(data_dir, "--api-keys", KEY).start()
        first.stop()
        started = time.perf_counter()
        run_id = fill_database(data_dir / "server.db")
        print(f"wrote {SESSIONS} sessions and {POINTS:,} points in {time.perf_counter() - started:.1f} s")
        server = ServerProcess(data_dir, "--api-keys", KEY).start()
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
                measure(browser, server.url, "#/runs", RUNS_DONE, RUNS_MARKS)  # warm-up: the server's first requests
                runs = [measure(browser, server.url, "#/runs", RUNS_DONE, RUNS_MARKS) for _ in range(loads)]
                chart = [measure(browser, server.url, f"#/runs/{run_id}", CHART_DONE, CHART_MARKS) for _ in range(loads)]
                browser.close()
        finally:
            server.stop()
    load = " ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"headless chromium, {loads} loads each, times from navigation start (load average {load}, "
          f"{os.cpu_count()} cores):")
    report(f"runs page, {SESSIONS:,} sessions", runs, "all rows in DOM")
    report(f"run page, {POINTS:,}-point chart", chart, "chart drawn")


if __name__ == "__main__":
    main()
