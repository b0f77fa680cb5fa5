"""The system sampler through a real server: no GPU, a faked NVML (also one that fails mid-run), history, the
events socket."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import pynvml
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.helpers import ADMIN_KEY, LiveServer, make_settings
from tests.training_helpers import TINY, create_session, wait_for, wait_status


class FakeNvml:
    """Stands in for the pynvml module: two GPUs, the second one without power readings."""

    NVMLError = pynvml.NVMLError

    def nvmlInit(self) -> None: ...
    def nvmlShutdown(self) -> None: ...
    def nvmlDeviceGetCount(self) -> int:
        return 2

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetName(self, handle: int) -> bytes:
        return b"NVIDIA H100 80GB HBM3"

    def nvmlDeviceGetUtilizationRates(self, handle: int) -> SimpleNamespace:
        return SimpleNamespace(gpu=37 + handle, memory=10)

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> SimpleNamespace:
        return SimpleNamespace(used=2048 * 1024 * 1024, total=81559 * 1024 * 1024)

    def nvmlDeviceGetTemperature(self, handle: int, sensor: int) -> int:
        return 41

    def nvmlDeviceGetPowerUsage(self, handle: int) -> int:
        if handle == 1:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_NOT_SUPPORTED)
        return 123456


class MissingNvml(FakeNvml):
    def nvmlInit(self) -> None:
        raise pynvml.NVMLError(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)


class FlakyNvml(FakeNvml):
    """Reads like FakeNvml until `lost` is set, then fails like a GPU that fell off the bus."""

    lost = False

    def nvmlDeviceGetCount(self) -> int:
        if self.lost:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST)
        return 2

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        if self.lost:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_GPU_IS_LOST)
        return index


async def test_system_reports_no_gpu_and_why(tmp_path) -> None:
    with LiveServer(make_settings(tmp_path / "data"), nvml=MissingNvml()) as server:
        async with server.client() as http:
            sample = (await http.get("/system")).json()
    assert sample["gpus"] == []
    assert "NVML" in sample["gpu_error"]
    assert sample["cpu_count"] == len(sample["cpu_per_core"]) >= 1
    assert 0 < sample["ram_used_mb"] < sample["ram_total_mb"]
    assert sample["disk_total_gb"] > 0 and sample["process_rss_mb"] > 10
    assert len(sample["load_avg"]) == 3


async def test_system_reads_gpus_through_nvml(tmp_path) -> None:
    with LiveServer(make_settings(tmp_path / "data"), nvml=FakeNvml()) as server:
        async with server.client() as http:
            sample = (await http.get("/system")).json()
            metrics = (await http.get("/metrics")).text
    assert sample["gpu_error"] is None
    first, second = sample["gpus"]
    assert first == {
        "index": 0, "name": "NVIDIA H100 80GB HBM3", "utilization_percent": 37.0, "memory_used_mb": 2048.0,
        "memory_total_mb": 81559.0, "temperature_c": 41.0, "power_w": 123.456,
    }
    assert second["power_w"] is None and second["utilization_percent"] == 38.0
    assert 'gpu_utilization_percent{gpu="0",name="NVIDIA H100 80GB HBM3"} 37.0' in metrics


async def test_history_keeps_samples(live_server: LiveServer) -> None:
    await asyncio.sleep(1.0)  # interval is 0.2 s in tests
    async with live_server.client() as http:
        history = (await http.get("/system/history", params={"minutes": 5})).json()
        paged = (await http.get("/system/history", params={"minutes": 5, "limit": 2, "offset": 1})).json()
    assert history["total"] >= 3
    timestamps = [item["ts"] for item in history["items"]]
    assert timestamps == sorted(timestamps)
    assert [item["ts"] for item in paged["items"]] == timestamps[1:3]


async def test_metrics_exports_requests_and_loop_lag(live_server: LiveServer) -> None:
    async with live_server.client() as http:
        await http.get("/system")
        text = (await http.get("/metrics")).text
    assert 'http_requests_total{method="GET",route="/system",status="200"}' in text
    assert "event_loop_lag_max_seconds" in text
    assert "system_cpu_percent" in text


async def test_events_socket_delivers_system_samples(live_server: LiveServer) -> None:
    ws_url = live_server.url.replace("http", "ws") + "/api/v1/events"
    async with connect(f"{ws_url}?api_key={ADMIN_KEY}&topics=system") as socket:
        first = json.loads(await asyncio.wait_for(socket.recv(), 10))
        second = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert first["type"] == second["type"] == "system.sample"
    assert second["seq"] > first["seq"]
    assert "cpu_percent" in first["data"]
    async with connect(ws_url, additional_headers={"X-API-Key": ADMIN_KEY}) as socket:
        assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "system.sample"


async def test_events_socket_refuses_a_bad_key(live_server: LiveServer) -> None:
    ws_url = live_server.url.replace("http", "ws") + "/api/v1/events?api_key=tk_nope"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(ws_url):
            pass
    assert refused.value.response.status_code == 403


async def system_when(http, predicate) -> dict:  # type: ignore[no-untyped-def]
    for _ in range(100):  # samples every 0.2 s in tests: 10 s at most
        sample = (await http.get("/system")).json()
        if predicate(sample):
            return sample
        await asyncio.sleep(0.1)
    raise AssertionError(f"no such sample: {sample}")


@pytest.mark.slow
@pytest.mark.training
@pytest.mark.reliability
async def test_nvml_failing_mid_run_empties_the_gpu_fields_and_breaks_nothing_else(tmp_path) -> None:
    nvml = FlakyNvml()
    with LiveServer(make_settings(tmp_path / "data"), nvml=nvml) as server:
        async with server.client() as http:
            run = await create_session(http, epochs=5, device="cpu")
            await wait_for(http, run["id"], lambda s: s["status"] == "running", what="running")
            assert len((await http.get("/system")).json()["gpus"]) == 2

            nvml.lost = True
            sample = await system_when(http, lambda s: s["gpus"] == [])
            assert "NVML read failed" in sample["gpu_error"] and "GPU is lost" in sample["gpu_error"]
            assert "gpu_utilization_percent{" not in (await http.get("/metrics")).text  # no stale readings
            samples_before = (await http.get("/system/history", params={"minutes": 5})).json()["total"]
            # The cards are still there for the scheduler: a run asking for GPU 1 is taken (it waits for the slot).
            waiting = await http.post("/sessions", json={**TINY, "device": "1", "epochs": 1})
            assert waiting.status_code == 201 and waiting.json()["status"] == "queued", waiting.text
            assert (await http.post(f"/sessions/{waiting.json()['id']}/stop")).json()["status"] == "cancelled"

            done = await wait_status(http, run["id"], "completed", "failed")
            assert done["status"] == "completed", done["error_tail"]
            assert (await http.get("/system/history", params={"minutes": 5})).json()["total"] > samples_before

            nvml.lost = False
            sample = await system_when(http, lambda s: len(s["gpus"]) == 2)
            assert sample["gpu_error"] is None
