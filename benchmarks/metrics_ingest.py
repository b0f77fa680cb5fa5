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
call, its maximum), one client in sequence. The HTTP runs are interleaved in slices (both servers up; ours, ours
storing nothing, then MLflow; ten rounds), because this machine's speed drifts between runs a minute apart.
Histories are read over HTTP from each server: ours with `GET /sessions/{id}/metrics?format=columns`, MLflow's
`metrics/get-history`.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from functools import partial
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


class OursHttp:
    """Our public ingest over HTTP, one client in sequence, each call with its batch_id.

    `store_nothing`: every call after the first resends batch_id `b0`, so the server parses, authenticates,
    checks the session and claims the id, then stores nothing: the ceiling of any storage design behind this
    route and this client (the points are counted as if stored)."""

    def __init__(self, url: str, *, store_nothing: bool = False) -> None:
        self.http = httpx.Client(base_url=f"{url}/api/v1", headers={"X-API-Key": KEY}, timeout=60)
        name = "http-ingest-floor" if store_nothing else "http-ingest"
        self.session_id = self.http.post("/sessions", json={"kind": "external", "name": name}).json()["id"]
        self.number, self.store_nothing = 0, store_nothing

    def send(self, batch: list[tuple[str, float, int]]) -> int:
        points = [{"key": key, "value": value, "step": step, "epoch": 1} for key, value, step in batch]
        batch_id = "b0" if self.store_nothing else f"b{self.number}"
        answer = self.http.post(f"/sessions/{self.session_id}/metrics", json={"batch_id": batch_id, "points": points})
        answer.raise_for_status()
        self.number += 1
        return len(points) if self.store_nothing else int(answer.json()["accepted"])


class Side:
    """One server's share of an interleaved run: its stream, and the points and seconds it has had."""

    def __init__(self, send: Any, keys: list[str], steps: int) -> None:
        self.send, self.batches = send, batches_of(keys, steps)
        self.points, self.seconds, self.done = 0, 0.0, False

    def warm(self, calls: int) -> None:
        """Uncounted calls (caches, connections), under a key of their own: the measured stream stays whole."""
        for batch in batches_of(["warm-up"], calls * 1000):  # one key: `calls` batches of 1000
            self.send(batch)

    def run_for(self, seconds: float) -> None:
        started = time.perf_counter()
        while not self.done and time.perf_counter() - started < seconds:
            batch = next(self.batches, None)
            if batch is None:
                self.done = True
                break
            self.points += self.send(batch)
        self.seconds += time.perf_counter() - started

    @property
    def rate(self) -> float:
        return self.points / self.seconds


def interleaved(sides: list[tuple[Side, float]], rounds: int) -> None:
    """Alternate the servers in slices (each side its own slice length), so that both see the same machine: on a
    shared 2-vCPU box the speed drifts by tens of percent over a minute, which skews one-after-the-other runs."""
    for _ in range(rounds):
        for side, slice_s in sides:
            side.run_for(slice_s)


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


def wait_until_quiet(deadline: float, busy_below: float = 0.25, window_s: float = 2.0) -> None:
    """Until the machine's CPUs were busy less than `busy_below` of a `window_s` window (or the deadline)."""
    def ticks() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            values = [int(field) for field in stat.readline().split()[1:]]
        return sum(values) - values[3] - values[4], sum(values)  # (busy, all): idle and iowait are not busy

    while time.monotonic() < deadline:
        busy, total = ticks()
        time.sleep(window_s)
        busy_after, total_after = ticks()
        if (busy_after - busy) < busy_below * max(1, total_after - total):
            return


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
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise RuntimeError("MLflow did not start")
        # MLflow 3 answers /health while its job runner still starts five huey consumers, each importing mlflow:
        # about 10 s of both cores here. Measured during that, MLflow looked 2x slower than it is; wait it out.
        wait_until_quiet(deadline=time.monotonic() + 60)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def new_run(self, http: httpx.Client) -> str:
        experiment = http.post("/api/2.0/mlflow/experiments/create", json={"name": f"bench-{time.time_ns()}"}).json()
        run = http.post("/api/2.0/mlflow/runs/create", json={"experiment_id": experiment["experiment_id"],
                                                               "start_time": int(time.time() * 1000)}).json()
        return str(run["run"]["info"]["run_id"])

    def send(self, http: httpx.Client, run_id: str, batch: list[tuple[str, float, int]]) -> int:
        """One `log-batch` call (1000 metrics, its maximum): the points it took."""
        stamp = int(time.time() * 1000)
        metrics = [{"key": key, "value": value, "timestamp": stamp, "step": step} for key, value, step in batch]
        http.post("/api/2.0/mlflow/runs/log-batch", json={"run_id": run_id, "metrics": metrics}).raise_for_status()
        return len(batch)

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
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 10)")
    options = parser.parse_args()
    keys, steps, long_history = (20, 2_000, 10_000) if options.quick else (20, 50_000, 100_000)
    rounds = options.rounds or (5 if options.quick else 10)
    mlflow_slice = (options.mlflow_seconds or (5 if options.quick else 30)) / rounds
    ours_slice = mlflow_slice / 3  # ours is fast: a third of MLflow's time still sends most of the stream
    compare = not options.no_mlflow and MLFLOW.exists()
    if not options.no_mlflow and not compare:
        print(f"MLflow not installed at {MLFLOW} (see this script's docstring): our side only.")
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
        mlflow = None
        try:
            ours_read = read_ours(server.url, session_id, BATCH_PREFIX + keys_of(keys)[0], steps)
            ours_long = read_ours(server.url, long_id, BATCH_PREFIX + keys_of(1)[0], long_history)
            mlflow = MLflowServer(work) if compare else None
            ours = Side(OursHttp(server.url).send, keys_of(keys), steps)
            floor = Side(OursHttp(server.url, store_nothing=True).send, keys_of(keys), steps)
            sides = [(ours, ours_slice), (floor, ours_slice)]
            if mlflow is not None:
                http = httpx.Client(base_url=mlflow.url, timeout=120)
                theirs = Side(partial(mlflow.send, http, mlflow.new_run(http)), keys_of(keys), steps)
                sides.append((theirs, mlflow_slice))
            for side, _slice in sides:  # first calls build caches and connections: not counted
                side.warm(3)
            if mlflow is None:
                ours.run_for(float("inf"))  # nothing to interleave with: the whole stream
                floor.run_for(ours.seconds)
            else:
                interleaved(sides, rounds)
                history_run = mlflow.new_run(http)
                for batch in batches_of(["history"], steps):
                    mlflow.send(http, history_run, batch)
                mlflow_read = mlflow.read(http, history_run, "history", steps)
        finally:
            server.stop()
            if mlflow is not None:
                mlflow.stop()
        print(f"ours  : {stored:,} points ({keys} keys x {steps:,} steps) child -> pipe -> SQLite in {seconds:.2f} s "
              f"= {ours_rate:,.0f} points/s")
        print(f"ours  : {ours.points:,} points of the same stream over HTTP (POST /sessions/{{id}}/metrics, 1000 a call) "
              f"in {ours.seconds:.2f} s = {ours.rate:,.0f} points/s")
        print(f"ours  : the same calls storing nothing (a retried batch_id each time: parse, key, session check, claim) "
              f"= {floor.rate:,.0f} points/s, the ceiling of any storage behind this route and client")
        print(f"ours  : history of one key over HTTP, {steps:,} points: {ours_read * 1000:.1f} ms; "
              f"{long_history:,} points: {ours_long * 1000:.1f} ms")
        if mlflow is None:
            return
        print(f"MLflow: {theirs.points:,} points of the same stream in {theirs.seconds:.2f} s = {theirs.rate:,.0f} "
              f"points/s ({rounds} rounds, each {ours_slice:.1f} s ours twice then {mlflow_slice:.1f} s MLflow)")
        print(f"MLflow: history of one key over HTTP, {steps:,} points: {mlflow_read * 1000:.1f} ms")
        print(f"ratio : ingest ours/MLflow {ours_rate / theirs.rate:,.1f}x (pipe), {ours.rate / theirs.rate:,.1f}x (both "
              f"over HTTP, same batches, interleaved; storing nothing {floor.rate / theirs.rate:,.1f}x); history read "
              f"MLflow/ours {mlflow_read / ours_read:,.1f}x")
    print("targets: >= 100k points/s into our SQLite, >= 20x MLflow (each path), a 100k-point history in < 100 ms")


if __name__ == "__main__":
    main()
