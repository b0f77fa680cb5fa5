"""The API under load while a training run goes: GET /system, /sessions/{id}, /sessions/{id}/metrics/latest
at a fixed total rate (open loop: requests start on schedule, however slow the answers), latency per route,
errors, and the server's event-loop lag during the load (from /metrics).

    .venv/bin/python benchmarks/api_load.py              # 200 requests/s for 30 s
    .venv/bin/python benchmarks/api_load.py --quick      # 100 requests/s for 5 s

Client and server share the machine's cores with the training child; the client's own time (and its waits
for a core) is in its figures, so they are an upper bound on what the server adds. The server-side p99 is
read from the server's own latency histogram (`http_request_duration_seconds`, buckets 1, 2.5, 5, 10 ms)
over the same window.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import KEY, percentile  # noqa: E402
from tests.helpers import ServerProcess  # noqa: E402


def start_training(http: httpx.Client) -> int:
    body = {"task": "detect", "model": "yolov8n.yaml", "dataset": 1, "epochs": 300, "imgsz": 128, "batch": 8}
    session = http.post("/sessions", json=body).json()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = http.get(f"/sessions/{session['id']}").json()
        if state["status"] == "running" and state["progress"]["batches"] > 0:
            return int(session["id"])
        time.sleep(0.5)
    raise RuntimeError("training did not start")


async def drive(base_url: str, session_id: int, rate: float, seconds: float) -> dict[str, list[tuple[float, int]]]:
    routes = ["/system", f"/sessions/{session_id}", f"/sessions/{session_id}/metrics/latest"]
    results: dict[str, list[tuple[float, int]]] = defaultdict(list)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base_url, headers={"X-API-Key": KEY}, limits=limits, timeout=10) as http:

        async def one(route: str) -> None:
            started = time.perf_counter()
            try:
                status = (await http.get(route)).status_code
            except httpx.HTTPError:
                status = 0
            results[route].append((time.perf_counter() - started, status))

        tasks = []
        begin = time.perf_counter()
        for index in range(int(rate * seconds)):
            delay = begin + index / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(routes[index % len(routes)])))
        await asyncio.gather(*tasks)
    return results


def latency_buckets(http: httpx.Client) -> dict[tuple[str, float], float]:
    """(route, upper bound s) -> requests so far, from the server's own http_request_duration_seconds."""
    found = {}
    pattern = r'^http_request_duration_seconds_bucket\{le="([^"]+)",method="GET",route="([^"]+)"\} (\S+)$'
    for bound, route, count in re.findall(pattern, http.get("/metrics").text, re.M):
        found[(route, float(bound))] = float(count)
    return found


def server_side_p99(before: dict[tuple[str, float], float], after: dict[tuple[str, float], float], route: str) -> str:
    """The smallest bucket bound holding 99% of the route's requests during the load (the server's own timing)."""
    bounds = sorted(bound for name, bound in after if name == route)
    deltas = {bound: after[(route, bound)] - before.get((route, bound), 0.0) for bound in bounds}
    total = deltas.get(float("inf"), 0.0)
    for bound in bounds:
        if total and deltas[bound] >= 0.99 * total:
            return f"<= {bound * 1000:g} ms"
    return "n/a"


def recent_loop_lag(http: httpx.Client) -> float:
    text = http.get("/metrics").text
    return float(re.search(r"^event_loop_lag_recent_max_seconds (\S+)$", text, re.M).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rate", type=float, default=None, help="requests per second (default 200)")
    parser.add_argument("--seconds", type=float, default=None, help="duration (default 30)")
    options = parser.parse_args()
    rate = options.rate or (100 if options.quick else 200)
    seconds = options.seconds or (5 if options.quick else 30)
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "data", "--api-keys", KEY, "--log-level", "warning",
                               env={"SYSTEM_SAMPLE_INTERVAL_S": "2", "SHAPES_TRAIN_IMAGES": "160"})
        try:
            server.start()
            with httpx.Client(base_url=f"{server.url}/api/v1", headers={"X-API-Key": KEY}, timeout=30) as http:
                session_id = start_training(http)
                time.sleep(61)  # let the recent-lag window forget start-up (model build, first epoch)
                before = latency_buckets(http)
                results = asyncio.run(drive(f"{server.url}/api/v1", session_id, rate, seconds))
                after = latency_buckets(http)
                lag = recent_loop_lag(http)
                state = http.get(f"/sessions/{session_id}").json()
                http.post(f"/sessions/{session_id}/stop")
        finally:
            server.stop()
    print(f"{rate:.0f} requests/s for {seconds:.0f} s while training (session {state['status']}, "
          f"epoch {state['progress']['epoch']}), 2 cores shared by client, server and trainer")
    total_errors = 0
    for route, samples in results.items():
        latencies = [latency * 1000 for latency, status in samples if status == 200]
        errors = sum(1 for _, status in samples if status != 200)
        total_errors += errors
        name = re.sub(r"/\d+", "/{id}", route)
        template = name.replace("{id}", "{session_id}")
        print(f"GET {name:<30} n={len(samples):5d} p50 {percentile(latencies, 0.5):6.2f} ms  "
              f"p95 {percentile(latencies, 0.95):6.2f} ms  p99 {percentile(latencies, 0.99):6.2f} ms  errors {errors}"
              f"  | server-side p99 {server_side_p99(before, after, template)}")
    print(f"event-loop lag, max over the last 60 s: {lag * 1000:.1f} ms")
    print("targets: p99 < 5 ms for /system, 0 errors, loop lag < 50 ms")
    sys.exit(1 if total_errors else 0)


if __name__ == "__main__":
    main()
