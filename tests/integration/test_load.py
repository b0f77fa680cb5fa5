"""2,000 mixed requests at 50 concurrent against `python run_api.py` while a training run goes (and five clients
follow WS /events): every request answered with the status its kind expects, none 5xx, SQLite's "database is
locked" never reaches a client or the log, the run keeps training, and the data dir is consistent afterwards."""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.archives import detection_folder, zip_folder
from tests.helpers import ServerProcess
from tests.training_helpers import TINY, create_session, wait_for, wait_status

pytestmark = [pytest.mark.training, pytest.mark.reliability]
KEY = "tk_load-test-admin-key-1234"
TOTAL, CONCURRENCY = 2000, 50

Request = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


def request_mix(session_id: int, model_id: int, recognition_id: int, photo: bytes,
                archives: list[bytes]) -> list[tuple[str, set[int], Request]]:
    """(kind, statuses it may answer, request): mostly reads, as a bot, dashboards and scripts do, and writes of
    every kind that touch the database the training run is writing metrics to."""
    s, uploads = f"/sessions/{session_id}", iter(archives)

    async def cancelled_session(http: httpx.AsyncClient) -> httpx.Response:
        created = await http.post("/sessions", json={**TINY, "epochs": 1})
        if created.status_code != 201:
            return created
        return await http.post(f"/sessions/{created.json()['id']}/stop")  # the slot is busy: still queued

    weighted: list[tuple[int, str, set[int], Request]] = [
        (8, "GET /system", {200}, lambda h: h.get("/system")),
        (4, "GET /system/history", {200}, lambda h: h.get("/system/history", params={"minutes": 5, "limit": 50})),
        (6, "GET /sessions/{id}", {200}, lambda h: h.get(s)),
        (4, "GET /sessions", {200}, lambda h: h.get("/sessions")),
        (4, "GET metrics", {200}, lambda h: h.get(f"{s}/metrics", params={"limit": 500})),
        (3, "GET metrics columns", {200}, lambda h: h.get(f"{s}/metrics", params={"format": "columns", "key": "train/box_loss"})),
        (4, "GET metrics/latest", {200}, lambda h: h.get(f"{s}/metrics/latest")),
        (4, "GET logs", {200}, lambda h: h.get(f"{s}/logs", params={"limit": 100})),
        (3, "GET /queue", {200}, lambda h: h.get("/queue")),
        (3, "GET /datasets", {200}, lambda h: h.get("/datasets")),
        (2, "GET dataset sample", {200}, lambda h: h.get("/datasets/1/samples/0")),
        (3, "GET /models", {200}, lambda h: h.get("/models")),
        (2, "GET /models/{id}", {200}, lambda h: h.get(f"/models/{model_id}")),
        (3, "GET /recognitions", {200}, lambda h: h.get("/recognitions")),
        (2, "GET annotated image", {200}, lambda h: h.get(f"/recognitions/{recognition_id}/images/0")),
        (3, "GET /auth/me", {200}, lambda h: h.get("/auth/me")),
        (2, "GET /auth/attempts", {200}, lambda h: h.get("/auth/attempts", params={"limit": 50})),
        (2, "GET /metrics", {200}, lambda h: h.get("/metrics")),
        (2, "GET /health", {200}, lambda h: h.get("/health")),
        (1, "GET chart.png", {200}, lambda h: h.get(f"{s}/chart.png")),
        (2, "wrong key", {401}, lambda h: h.get("/sessions", headers={"X-API-Key": "tk_wrong"})),
        (4, "POST /recognitions", {201}, lambda h: h.post("/recognitions", files={"images": ("a.jpg", photo)},
                                                           data={"model": str(model_id), "expected_count": "2"})),
        (3, "POST /keys", {201}, lambda h: h.post("/keys", json={"name": "load", "role": "viewer"})),
        (3, "PATCH priority", {200}, lambda h: h.patch(s, json={"priority": random.randint(0, 9)})),
        (2, "create + cancel session", {200}, cancelled_session),
        (1, "POST /datasets", {201}, lambda h: h.post("/datasets", files={"file": ("d.zip", next(uploads))})),
    ]
    kinds = [(kind, statuses, request) for weight, kind, statuses, request in weighted for _ in range(weight)]
    rng = random.Random(8)
    mix = [kinds[rng.randrange(len(kinds))] for _ in range(TOTAL)]
    uploads_needed = sum(1 for kind, _, _ in mix if kind == "POST /datasets")
    assert uploads_needed <= len(archives), uploads_needed
    return mix


async def metric_points(http: httpx.AsyncClient, session_id: int) -> int:
    return int((await http.get(f"/sessions/{session_id}/metrics", params={"limit": 1})).json()["total"])


async def follow_events(url: str, received: list[str], stop: asyncio.Event) -> None:
    async with connect(f"{url}?topics=session,system,recognition", additional_headers={"X-API-Key": KEY}) as socket:
        while not stop.is_set():
            try:
                received.append(json.loads(await asyncio.wait_for(socket.recv(), 1.0))["type"])
            except TimeoutError:
                continue


async def run_load(server: ServerProcess, weights: Path, tmp_path: Path) -> None:
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    writes = 0

    async def count_writes(request: httpx.Request) -> None:
        nonlocal writes
        writes += request.method in ("POST", "PUT", "PATCH", "DELETE")

    async with httpx.AsyncClient(base_url=f"{server.url}/api/v1", headers={"X-API-Key": KEY}, timeout=60,
                                 limits=limits, event_hooks={"request": [count_writes]}) as http:
        model_id = (await http.post("/models", files={"file": ("best.pt", weights.read_bytes())})).json()["id"]
        photo = (await http.get("/datasets/1/samples/0")).content
        recognition = await http.post("/recognitions", files={"images": ("a.jpg", photo)}, data={"model": str(model_id)})
        archives = [zip_folder(detection_folder(tmp_path / f"ds{i}", train=4, val=2)) + bytes([i]) for i in range(60)]
        run = await create_session(http, epochs=300)
        await wait_for(http, run["id"], lambda s: s["progress"]["epoch"] >= 1, what="a first epoch")
        points_before = await metric_points(http, run["id"])
        mix = request_mix(run["id"], model_id, recognition.json()["id"], photo, archives)

        stop, events = asyncio.Event(), [[] for _ in range(5)]
        followers = [asyncio.create_task(follow_events(server.url.replace("http", "ws") + "/api/v1/events", got, stop))
                     for got in events]
        gate = asyncio.Semaphore(CONCURRENCY)
        results: list[tuple[str, set[int], int | str, bytes, float]] = []

        async def one(kind: str, statuses: set[int], request: Request) -> None:
            async with gate:
                started = time.perf_counter()
                try:
                    response = await request(http)
                    results.append((kind, statuses, response.status_code, response.content[:300],
                                    time.perf_counter() - started))
                except httpx.HTTPError as exc:
                    results.append((kind, statuses, f"{type(exc).__name__}: {exc}", b"", time.perf_counter() - started))

        started = time.perf_counter()
        await asyncio.gather(*(one(*spec) for spec in mix))
        elapsed = time.perf_counter() - started
        stop.set()
        await asyncio.gather(*followers)

        report(results, elapsed)
        assert len(results) == TOTAL
        unanswered = [(kind, status) for kind, _, status, _, _ in results if isinstance(status, str)]
        assert not unanswered, unanswered[:10]
        server_errors = [(kind, status, body) for kind, _, status, body, _ in results if status >= 500]
        assert not server_errors, server_errors[:10]
        unexpected = [(kind, status, body) for kind, ok, status, body, _ in results if status not in ok]
        assert not unexpected, unexpected[:10]
        assert not [body for *_, body, _ in results if b"locked" in body]
        assert all(len(got) > 10 and "system.sample" in got for got in events), [len(got) for got in events]

        audit = (await http.get("/audit", params={"limit": 1000})).json()
        assert audit["total"] == writes, (audit["total"], writes)  # every write of the load, each once
        assert all(row["status"] is not None and row["key_id"] is not None for row in audit["items"])
        assert (await http.get(f"/sessions/{run['id']}")).json()["status"] == "running"
        assert await metric_points(http, run["id"]) > points_before  # it kept training (and reporting) meanwhile
        await http.post(f"/sessions/{run['id']}/stop")
        await wait_status(http, run["id"], "stopped", timeout=60)


def report(results: list[tuple[str, set[int], int | str, bytes, float]], elapsed: float) -> None:
    """Printed for the record (pytest -s); speed targets live in benchmarks/, not here."""
    by_kind: dict[str, list[float]] = defaultdict(list)
    for kind, _, _, _, seconds in results:
        by_kind[kind].append(seconds * 1000)
    every = sorted(ms for values in by_kind.values() for ms in values)
    print(f"\n{len(results)} requests in {elapsed:.1f} s ({len(results) / elapsed:.0f}/s) at {CONCURRENCY} concurrent; "
          f"p50 {every[len(every) // 2]:.0f} ms, p99 {every[int(len(every) * 0.99)]:.0f} ms; "
          f"statuses {dict(Counter(status for _, _, status, _, _ in results))}")
    for kind, values in sorted(by_kind.items(), key=lambda item: -statistics.median(item[1])):
        print(f"  {kind:26} n={len(values):4}  p50 {statistics.median(values):7.1f} ms  max {max(values):7.1f} ms")


@pytest.mark.slow
def test_2000_mixed_requests_at_50_concurrent_during_training(tmp_path: Path, trained_weights: Path) -> None:
    server = ServerProcess(tmp_path / "data", "--api-keys", KEY, env={"AUTH_MAX_FAILURES": "1000000"}).start()
    try:
        asyncio.run(run_load(server, trained_weights, tmp_path))
    finally:
        server.stop()
    log = server.output()
    assert "database is locked" not in log and "unhandled error" not in log and "Traceback" not in log, log[-3000:]
    server.assert_consistent()
