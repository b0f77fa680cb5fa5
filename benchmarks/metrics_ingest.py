"""Metric ingest and history reads: our server's paths against an MLflow tracking server (SQLite backend).

    python3 -m venv benchmarks/.mlflow-venv && benchmarks/.mlflow-venv/bin/pip install -r benchmarks/requirements.txt
    .venv/bin/python benchmarks/metrics_ingest.py            # 20 keys x 50k steps; histories of 50k and 100k points
    .venv/bin/python benchmarks/metrics_ingest.py --quick

Two of our paths. Internal: a local training child reports per-batch values over a multiprocessing pipe and
the server writes them in batches; this drives exactly that path with the server's own classes (TrainingProcess,
SessionRun, MetricsStore, the 0.25 s flush) from a spawned child that sends the synthetic stream instead of
training. Public: what external scripts and cluster workers use, `POST /sessions/{id}/metrics` over HTTP into a
running server (an external session, 1000 points a call, each call with its batch_id, committed before the
answer), one client in sequence. MLflow gets the same points through its REST `runs/log-batch` (1000 metrics a
call, its maximum), one client in sequence, for a bounded time. Histories are read over HTTP from each server:
ours with `GET /sessions/{id}/metrics?format=columns`, MLflow's `metrics/get-history`.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.core.database import Database  # noqa: E402
from api.core.events import EventBus  # noqa: E402
from api.training.child.contract import Batch, Result  # noqa: E402
from api.training.executors.local import TrainingProcess  # noqa: E402
from api.training.log_store import LogStore  # noqa: E402
from api.training.metrics_store import BATCH_PREFIX, MetricsStore  # noqa: E402
from api.training.records import SessionConfig  # noqa: E402
from api.training.run import SessionRun  # noqa: E402
from api.training.store import SessionStore  # noqa: E402
from benchmarks.common import KEY  # noqa: E402
from tests.helpers import ServerProcess, free_port  # noqa: E402

MLFLOW = ROOT / "benchmarks" / ".mlflow-venv" / "bin" / "mlflow"


def keys_of(count: int) -> list[str]:
    return [f"train/loss_{index:02d}" for index in range(count)]


def value_at(step: int, index: int) -> float:
    return 1.0 / (1 + step * 0.001) + index * 0.01


def synthetic_child(config: dict[str, Any], connection: Any, stop_event: Any, parent_pid: int) -> None:
    """Stands in for a training child: one `batch` message per step with a value per key, then a result."""
    keys, steps = keys_of(config["keys"]), config["steps"]
    for step in range(1, steps + 1):
        losses = {key: value_at(step, index) for index, key in enumerate(keys)}
        connection.send(Batch(epoch=1, batch=step, batches=steps, losses=losses))
    connection.send(Result(best="", stopped=False, names={}, epochs_done=1))
    connection.close()


async def ingest_ours(db_path: Path, keys: int, steps: int) -> tuple[int, float, int]:
    """(session id, seconds from the first message to the last row committed, rows stored)."""
    db = await Database.open(db_path)
    try:
        store, metrics = SessionStore(db), MetricsStore(db)
        config = SessionConfig(model="yolov8n.yaml", architecture="yolov8n", epochs=1, batch=16, imgsz=64, device="cpu")
        session_id = await store.insert(name=f"ingest-{keys}x{steps}", task="detect", model="yolov8n.yaml",
                                        config=config.to_json("train"), status="running", created_at=time.time(),
                                        started_at=time.time(), epochs=1)
        process = TrainingProcess({"session_id": session_id, "keys": keys, "steps": steps}, target=synthetic_child)
        run = SessionRun(record=await store.record(session_id), handle=process, store=store, metrics=metrics,
                         logs=LogStore(db), bus=EventBus())

        async def flush_loop() -> None:  # what the session manager runs
            while True:
                await asyncio.sleep(0.25)
                await metrics.flush()

        await process.start()
        first = await process._queue.get()  # the clock starts with the first message, not the child start-up
        started = time.perf_counter()
        await run.handle_message(first)
        flusher = asyncio.create_task(flush_loop())
        await run.consume()
        flusher.cancel()
        await metrics.flush()
        elapsed = time.perf_counter() - started
        await store.update(session_id, status="completed", ended_at=time.time())
        stored = await db.fetch_value("SELECT COUNT(*) FROM metrics WHERE session_id = ?", (session_id,))
        return session_id, elapsed, int(stored)
    finally:
        await db.close()


def batches_of(keys: list[str], steps: int, size: int = 1000) -> Any:
    """The stream, step by step, cut into batches of `size` points (MLflow's log-batch maximum)."""
    pending: list[tuple[str, float, int]] = []
    for step in range(1, steps + 1):
        pending.extend((key, value_at(step, index), step) for index, key in enumerate(keys))
        while len(pending) >= size or (step == steps and pending):
            batch, pending = pending[:size], pending[size:]
            yield batch


def ingest_ours_http(url: str, keys: list[str], steps: int, budget_s: float) -> tuple[int, float]:
    """Our public ingest over HTTP, one client in sequence: (points acknowledged, seconds)."""
    with httpx.Client(base_url=f"{url}/api/v1", headers={"X-API-Key": KEY}, timeout=60) as http:
        session_id = http.post("/sessions", json={"kind": "external", "name": "http-ingest"}).json()["id"]
        sent, started = 0, time.perf_counter()
        for number, batch in enumerate(batches_of(keys, steps)):
            points = [{"key": key, "value": value, "step": step, "epoch": 1} for key, value, step in batch]
            answer = http.post(f"/sessions/{session_id}/metrics", json={"batch_id": f"b{number}", "points": points})
            answer.raise_for_status()
            sent += answer.json()["accepted"]
            if time.perf_counter() - started > budget_s:
                break
        return sent, time.perf_counter() - started


def read_ours(url: str, session_id: int, key: str, points: int, runs: int = 5) -> float:
    with httpx.Client(base_url=f"{url}/api/v1", headers={"X-API-Key": KEY}, timeout=60) as http:
        params = {"key": key, "format": "columns", "limit": points}
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            body = http.get(f"/sessions/{session_id}/metrics", params=params).json()
            times.append(time.perf_counter() - started)
            assert len(body["values"]) == points, (len(body["values"]), points)
    return min(times)


class MLflowServer:
    def __init__(self, work: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.output = (work / "mlflow.log").open("wb")
        self.proc = subprocess.Popen(
            [str(MLFLOW), "server", "--backend-store-uri", f"sqlite:///{work / 'mlflow.db'}", "--default-artifact-root",
             str(work / "artifacts"), "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"],
            stdout=self.output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.5)
        raise RuntimeError("MLflow did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def new_run(self, http: httpx.Client) -> str:
        experiment = http.post("/api/2.0/mlflow/experiments/create", json={"name": f"bench-{time.time_ns()}"}).json()
        run = http.post("/api/2.0/mlflow/runs/create", json={"experiment_id": experiment["experiment_id"],
                                                               "start_time": int(time.time() * 1000)}).json()
        return str(run["run"]["info"]["run_id"])

    def log(self, http: httpx.Client, run_id: str, keys: list[str], steps: int, budget_s: float) -> tuple[int, float]:
        """Logs the stream step by step (1000 metrics a call) until done or out of time: (points, seconds)."""
        sent, started = 0, time.perf_counter()
        for batch in batches_of(keys, steps):
            stamp = int(time.time() * 1000)
            metrics = [{"key": key, "value": value, "timestamp": stamp, "step": step} for key, value, step in batch]
            http.post("/api/2.0/mlflow/runs/log-batch", json={"run_id": run_id, "metrics": metrics}).raise_for_status()
            sent += len(batch)
            if time.perf_counter() - started > budget_s:
                break
        return sent, time.perf_counter() - started

    def read(self, http: httpx.Client, run_id: str, key: str, points: int, runs: int = 3) -> float:
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            history, token = [], None
            while True:
                params = {"run_id": run_id, "metric_key": key, "max_results": 25000, **({"page_token": token} if token else {})}
                body = http.get("/api/2.0/mlflow/metrics/get-history", params=params).json()
                history.extend(body.get("metrics", []))
                token = body.get("next_page_token")
                if not token:
                    break
            times.append(time.perf_counter() - started)
            assert len(history) == points, (len(history), points)
        return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--mlflow-seconds", type=float, default=None, help="time given to MLflow's ingest (default 30)")
    parser.add_argument("--no-mlflow", action="store_true", help="measure our side only")
    options = parser.parse_args()
    keys, steps, long_history = (20, 2_000, 10_000) if options.quick else (20, 50_000, 100_000)
    mlflow_budget = options.mlflow_seconds or (5 if options.quick else 30)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = work / "data"
        server = ServerProcess(data, "--api-keys", KEY, "--log-level", "warning")
        server.start()  # creates the database (schema, built-in data); stopped so that the ingest owns the writer
        server.stop()
        session_id, seconds, stored = asyncio.run(ingest_ours(data / "server.db", keys, steps))
        long_id, _, long_stored = asyncio.run(ingest_ours(data / "server.db", 1, long_history))
        assert long_stored == long_history, (long_stored, long_history)
        assert stored == keys * steps, (stored, keys * steps)
        ours_rate = stored / seconds
        server.start()
        try:
            ours_read = read_ours(server.url, session_id, BATCH_PREFIX + keys_of(keys)[0], steps)
            ours_long = read_ours(server.url, long_id, BATCH_PREFIX + keys_of(1)[0], long_history)
            http_sent, http_seconds = ingest_ours_http(server.url, keys_of(keys), steps, mlflow_budget)
        finally:
            server.stop()
        http_rate = http_sent / http_seconds
        print(f"ours  : {stored:,} points ({keys} keys x {steps:,} steps) child -> pipe -> SQLite in {seconds:.2f} s "
              f"= {ours_rate:,.0f} points/s")
        print(f"ours  : {http_sent:,} points of the same stream over HTTP (POST /sessions/{{id}}/metrics, 1000 a call) "
              f"in {http_seconds:.2f} s = {http_rate:,.0f} points/s")
        print(f"ours  : history of one key over HTTP, {steps:,} points: {ours_read * 1000:.1f} ms; "
              f"{long_history:,} points: {ours_long * 1000:.1f} ms")
        if options.no_mlflow:
            return
        if not MLFLOW.exists():
            print(f"MLflow not installed at {MLFLOW} (see this script's docstring): no comparison.")
            return
        mlflow = MLflowServer(work)
        try:
            with httpx.Client(base_url=mlflow.url, timeout=120) as http:
                run_id = mlflow.new_run(http)
                sent, mlflow_seconds = mlflow.log(http, run_id, keys_of(keys), steps, mlflow_budget)
                history_run = mlflow.new_run(http)
                mlflow.log(http, history_run, ["history"], steps, budget_s=float("inf"))
                mlflow_read = mlflow.read(http, history_run, "history", steps)
        finally:
            mlflow.stop()
        mlflow_rate = sent / mlflow_seconds
        print(f"MLflow: {sent:,} points of the same stream in {mlflow_seconds:.2f} s (time-boxed) "
              f"= {mlflow_rate:,.0f} points/s")
        print(f"MLflow: history of one key over HTTP, {steps:,} points: {mlflow_read * 1000:.1f} ms")
        print(f"ratio : ingest ours/MLflow {ours_rate / mlflow_rate:,.1f}x (pipe), {http_rate / mlflow_rate:,.1f}x (both "
              f"over HTTP, same batches); history read MLflow/ours {mlflow_read / ours_read:,.1f}x")
    print("targets: >= 100k points/s into our SQLite, >= 20x MLflow (each path), a 100k-point history in < 100 ms")


if __name__ == "__main__":
    main()
