"""From the end of an epoch on the server to the edited progress message at the Bot API.

    .venv/bin/python benchmarks/notify_latency.py            # 12 epochs of a real run (~2-3 s each)
    .venv/bin/python benchmarks/notify_latency.py --quick    # 4 epochs

A real server (run_api.py), the real bot (aiogram polling, default edit throttle of 1 s per chat) and the
tests' fake Telegram Bot API on 127.0.0.1. The epoch's end is the `ts` of its `session.epoch` event (the
server's clock); the edit's arrival is when the fake Bot API received editMessageText (same machine, same
clock). An epoch whose edit was folded into the next one (faster epochs than the throttle) counts as missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import KEY, percentile  # noqa: E402
from tests.bot_harness import ALLOWED_USER, bot_settings, running_bot  # noqa: E402
from tests.fakes.telegram import FakeTelegram  # noqa: E402
from tests.helpers import ServerProcess  # noqa: E402


async def epoch_ends(url: str, session_id: int, epochs: int, found: dict[int, float]) -> None:
    """Collects the server's session.epoch events of the run: epoch -> ts."""
    ws_url = url.replace("http://", "ws://") + "/api/v1/events?topics=session"
    async with connect(ws_url, additional_headers={"X-API-Key": KEY}, proxy=None) as websocket:
        async for raw in websocket:
            event = json.loads(raw)
            data = event["data"]
            if event["type"] == "session.epoch" and data["session_id"] == session_id and data["epoch"] <= epochs:
                found.setdefault(data["epoch"], event["ts"])
            if len(found) >= epochs:
                return


async def measure(work: Path, epochs: int) -> tuple[list[float], int]:
    fake = await FakeTelegram().start()
    server = ServerProcess(work / "data", "--api-keys", KEY, "--log-level", "warning",
                           env={"SYSTEM_SAMPLE_INTERVAL_S": "2", "SHAPES_TRAIN_IMAGES": "160"})
    server.start()
    try:
        settings = bot_settings(server.url, fake.base_url, work / "bot", api_key=KEY, edit_interval_s=1.0,
                                poll_interval_s=3.0)
        async with running_bot(settings, fake) as bot, httpx.AsyncClient(
                base_url=f"{server.url}/api/v1", headers={"X-API-Key": KEY}, timeout=30) as http:
            body = {"task": "detect", "model": "yolov8n.yaml", "dataset": 1, "epochs": epochs, "imgsz": 128, "batch": 16}
            session = (await http.post("/sessions", json=body)).json()
            ends: dict[int, float] = {}
            listener = asyncio.create_task(epoch_ends(server.url, session["id"], epochs, ends))
            await bot.notifier.follow(ALLOWED_USER, session, "en")
            await asyncio.wait_for(listener, timeout=60 + epochs * 30)
            await asyncio.sleep(2)  # the last edit
    finally:
        server.stop()
        await fake.close()
    edits: dict[int, float] = {}
    for call in fake.sent("editMessageText"):
        match = re.search(r"Epoch (\d+)/", call.text)
        if match:
            edits.setdefault(int(match.group(1)), call.at)
    latencies = [edits[epoch] - ends[epoch] for epoch in sorted(ends) if epoch in edits]
    return latencies, len(ends) - len(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    epochs = 4 if options.quick else 12
    with tempfile.TemporaryDirectory() as tmp:
        latencies, missed = asyncio.run(measure(Path(tmp), epochs))
    ms = [value * 1000 for value in latencies]
    print(f"epoch end -> edited message at the Bot API, {len(ms)} epochs ({missed} folded into a later edit)")
    print(f"p50 {percentile(ms, 0.5):.0f} ms  p95 {percentile(ms, 0.95):.0f} ms  max {max(ms):.0f} ms")
    print("target: p95 < 1000 ms")


if __name__ == "__main__":
    main()
