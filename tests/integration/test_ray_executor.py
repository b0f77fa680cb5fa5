"""`--executor ray` on a real local Ray cluster (a head and a second node, 1 CPU each): runs queue while the
cluster is down, are placed across the nodes, fetch the dataset once per node, report over the ingest API,
register their models; killing the node under a run resumes it on the other node from its last checkpoint."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import ADMIN_KEY, ServerProcess
from tests.ray_cluster import PrivateNetwork, RayNodes, ensure_ray
from tests.training_helpers import TINY

pytestmark = [pytest.mark.training, pytest.mark.timeout(900)]


@dataclass
class Cluster:
    network: PrivateNetwork
    nodes: RayNodes
    server: ServerProcess

    def http(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        def go() -> httpx.Response:
            return httpx.request(method, f"{self.server.url}/api/v1{path}", headers={"X-API-Key": ADMIN_KEY},
                                 timeout=30, **kwargs)

        return self.network.call(go)

    def get(self, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.http("GET", path, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def create(self, **overrides: Any) -> int:
        response = self.http("POST", "/sessions", json={**TINY, "batch": 8, "device": "cpu", **overrides})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def wait(self, what: str, check: Callable[[], Any], timeout: float = 240) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if value := check():
                return value
            time.sleep(0.5)
        raise AssertionError(f"timed out waiting for {what}:\n{self.server.output()[-4000:]}")

    def wait_status(self, session_id: int, *statuses: str, timeout: float = 240) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            session = self.get(f"/sessions/{session_id}")
            return session if session["status"] in statuses else None

        return self.wait(f"session {session_id} {statuses}", reached, timeout)

    def logs(self, session_id: int) -> list[str]:
        return [line["message"] for line in self.get(f"/sessions/{session_id}/logs", params={"limit": 1000})["items"]]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    ensure_ray()
    root = tmp_path_factory.mktemp("ray")
    network = PrivateNetwork()
    nodes = RayNodes(network)
    server = ServerProcess(root / "data", "--executor", "ray", "--api-keys", ADMIN_KEY, env={
        "RAY_ADDRESS": nodes.address, "RAY_NODE_CACHE": str(root / "nodes"), "RAY_USAGE_STATS_ENABLED": "0"})
    server.env["PUBLIC_URL"] = server.url
    try:
        network.call(server.start)  # before the cluster: it must come up without one
        yield Cluster(network, nodes, server)
    finally:
        network.call(server.stop)
        nodes.stop()
        network.close()


def test_runs_wait_for_an_unreachable_cluster_then_spread_over_its_nodes(cluster: Cluster) -> None:
    health = cluster.get("/health")
    assert (health["status"], health["executor"], health["cluster"]) == ("ok", "ray", "unreachable")
    down = cluster.get("/cluster")
    assert down["state"] == "unreachable" and down["capacity"] == 0 and down["error"]
    first, second = cluster.create(epochs=2, name="first"), cluster.create(epochs=2, name="second")
    time.sleep(3)
    assert [cluster.get(f"/sessions/{s}")["status"] for s in (first, second)] == ["queued", "queued"]

    cluster.nodes.start_head()
    cluster.nodes.add_node()
    cluster.wait("the cluster", lambda: cluster.get("/cluster")["state"] == "connected", timeout=60)
    def both_placed() -> dict[str, Any] | None:
        view = cluster.get("/cluster")
        return view if sum(len(node["sessions"]) for node in view["nodes"]) == 2 else None

    placed = cluster.wait("both runs placed", both_placed, timeout=120)
    assert len(placed["nodes"]) == 2 and placed["capacity"] == 2
    assert sorted(len(node["sessions"]) for node in placed["nodes"]) == [1, 1]  # one run per node (1 CPU each)
    assert all(node["total"]["cpus"] == 1 and node["alive"] for node in placed["nodes"])
    assert cluster.get("/health")["cluster"] == "connected"

    nodes_of = {}
    for session_id in (first, second):
        session = cluster.wait_status(session_id, "completed", "failed")
        assert session["status"] == "completed", (session, cluster.logs(session_id)[-30:])
        nodes_of[session_id] = session["node"]
        assert session["progress"]["epoch"] == 2 and session["best_metrics"], session
        model = cluster.get(f"/models/{session['result_model_id']}")
        assert model["source"] == "training" and model["classes"]
        epochs = cluster.get(f"/sessions/{session_id}/metrics", params={"key": "train/box_loss"})["items"]
        assert [point["epoch"] for point in epochs] == [1, 2]
        assert cluster.get(f"/sessions/{session_id}/metrics", params={"key": "batch/train/box_loss"})["total"] > 0
        logs = cluster.logs(session_id)
        assert any("downloaded to this node" in line for line in logs), logs[:20]  # each node fetched it once
    assert len(set(nodes_of.values())) == 2


def test_the_bots_status_shows_the_nodes_and_their_runs(cluster: Cluster, tmp_path: Path) -> None:
    """The real bot against the server, both inside the cluster's network (so is the fake Telegram)."""
    from tests.bot_harness import ALLOWED_USER, bot_settings, running_bot
    from tests.fakes.telegram import FakeTelegram

    async def ask_status() -> str:
        fake = await FakeTelegram().start()
        try:
            async with running_bot(bot_settings(cluster.server.url, fake.base_url, tmp_path / "bot"), fake):
                await fake.send_text(FakeTelegram.user(ALLOWED_USER, "en"), "📊 Status")
                return (await fake.wait_for(lambda c: c.method == "sendMessage" and "CPU" in c.text, timeout=30)).text
        finally:
            await fake.close()

    text = cluster.network.call(asyncio.run, ask_status())
    view = cluster.get("/cluster")
    assert "Ray cluster</b>: 2 nodes, 2 runs at once" in text, text
    for node in view["nodes"]:
        assert f"• {node['id'][:8]}{' ★' if node['head'] else ''}: CPU " in text


def test_a_node_that_has_the_dataset_does_not_download_it_again(cluster: Cluster) -> None:
    third = cluster.create(epochs=1, name="third")
    session = cluster.wait_status(third, "completed", "failed")
    assert session["status"] == "completed", cluster.logs(third)[-30:]
    logs = cluster.logs(third)
    assert any("is cached on this node: not downloaded" in line for line in logs), logs[:20]
    assert not any("downloaded to this node" in line for line in logs)


def test_stop_reaches_the_worker_through_its_reports(cluster: Cluster) -> None:
    """Stop sets the flag; the worker hears it in its next ingest answer, finishes the step, saves, and ends."""
    session_id = cluster.create(epochs=50, name="stopped")
    cluster.wait("a running epoch", lambda: (s := cluster.get(f"/sessions/{session_id}"))["status"] == "running"
                 and s["progress"]["epoch"] >= 1)
    assert cluster.http("POST", f"/sessions/{session_id}/stop").json()["stop_requested"] is True
    session = cluster.wait_status(session_id, "stopped", "failed", "completed", timeout=120)
    assert session["status"] == "stopped" and session["progress"]["epoch"] < 50, session
    logs = cluster.logs(session_id)
    assert any("stop requested" in line for line in logs), logs[-20:]  # cooperative, not the kill after the grace
    assert any(a["role"] == "checkpoint" for a in cluster.get(f"/sessions/{session_id}/artifacts")["items"])


def test_killing_the_node_under_a_run_resumes_it_on_the_other_node(cluster: Cluster) -> None:
    """Two runs fill both nodes; the one on the worker node (not the head, whose death ends any Ray cluster) loses
    its node to kill -9 and resumes on the head from the checkpoint it uploaded, once the head is free."""
    ids = [cluster.create(epochs=3, name="neighbour"), cluster.create(epochs=5, name="survivor", imgsz=96)]

    def worker_node_run() -> tuple[int, dict[str, Any]] | None:
        nodes = cluster.get("/cluster")["nodes"]
        on_worker = [sid for node in nodes if not node["head"] for sid in node["sessions"]]
        if not on_worker:
            return None
        session = cluster.get(f"/sessions/{on_worker[0]}")
        artifacts = cluster.get(f"/sessions/{on_worker[0]}/artifacts")["items"]
        done = session["progress"]["epoch"] >= 2 and any(a["role"] == "checkpoint" for a in artifacts)
        return (on_worker[0], session) if done and session["status"] == "running" else None

    session_id, before = cluster.wait("a checkpoint at epoch 2 or later on the worker node", worker_node_run)
    acknowledged = cluster.get(f"/sessions/{session_id}/metrics", params={"key": "train/box_loss"})["items"]
    cluster.nodes.kill_node(before["node"])

    def elsewhere() -> dict[str, Any] | None:
        session = cluster.get(f"/sessions/{session_id}")
        moved = session["attempts"] >= 2 and session["node"] not in (None, before["node"])
        return session if session["status"] in ("running", "completed") and moved else None

    resumed = cluster.wait("the run on the other node", elsewhere, timeout=300)
    view = cluster.get("/cluster")
    assert [node["id"] for node in view["nodes"]] == [resumed["node"]] and view["capacity"] == 1
    for sid in ids:
        session = cluster.wait_status(sid, "completed", "failed", timeout=300)
        assert session["status"] == "completed", cluster.logs(sid)[-40:]
    session = cluster.get(f"/sessions/{session_id}")
    assert session["attempts"] == 2, session  # relaunched once, after Ray saw the node die, not onto it
    logs = cluster.logs(session_id)
    assert any("resuming from" in line for line in logs), logs[-40:]
    points = cluster.get(f"/sessions/{session_id}/metrics", params={"key": "train/box_loss"})["items"]
    epochs = 3 if session_id == ids[0] else 5
    assert [p["epoch"] for p in points] == list(range(1, epochs + 1))  # every epoch once, none lost, none twice
    kept = {p["epoch"]: p["value"] for p in points}
    assert all(kept[p["epoch"]] == p["value"] for p in acknowledged if p["epoch"] < before["progress"]["epoch"])
