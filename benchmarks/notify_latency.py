"""From the end of an epoch on the server to the edited progress message at the Bot API; and from a run created
(or cancelled) with curl to its announcement in a chat whose Notifications are "all runs".

    .venv/bin/python benchmarks/notify_latency.py            # 12 epochs of a real run (~2-3 s each), 20 curl runs
    .venv/bin/python benchmarks/notify_latency.py --quick    # 4 epochs, 5 curl runs
    .venv/bin/python benchmarks/notify_latency.py --curl-only    # 20 curl runs, no training run to follow

A real server (run_api.py), the real bot (aiogram polling, default edit throttle of 1 s per chat) and the
tests' fake Telegram Bot API on 127.0.0.1. The epoch's end is the `ts` of its `session.epoch` event (the
server's clock); the edit's arrival is when the fake Bot API received editMessageText (same machine, same
clock). An epoch whose edit was folded into the next one (faster epochs than the throttle) counts as missed.
A curl run's moment is the `ts` of its `session.status` event (queued: created; cancelled: stopped); its
announcement is the sendMessage of its progress message (created) or of its end (cancelled).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import KEY, percentile  # noqa: E402
from telegram_bot.bot import BotRuntime  # noqa: E402
from telegram_bot.schemas import SessionRead  # noqa: E402
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


async def status_events(url: str, found: dict[tuple[int, str], float], ready: asyncio.Event) -> None:
    """Collects session.status events: (session, status) -> ts."""
    ws_url = url.replace("http://", "ws://") + "/api/v1/events?topics=session"
    async with connect(ws_url, additional_headers={"X-API-Key": KEY}, proxy=None) as websocket:
        ready.set()
        async for raw in websocket:
            event = json.loads(raw)
            if event["type"] == "session.status":
                found.setdefault((event["data"]["id"], event["data"]["status"]), event["ts"])


async def curl(*args: str) -> dict:
    """A request as a user's script makes it: the curl command line, no X-On-Behalf-Of."""
    process = await asyncio.create_subprocess_exec("curl", "-s", "-H", f"X-API-Key: {KEY}", *args,
                                                   stdout=asyncio.subprocess.PIPE)
    out, _ = await process.communicate()
    return json.loads(out)


async def measure_curl_runs(server_url: str, fake: FakeTelegram, runs: int) -> list[float]:
    """Runs created with curl, then cancelled: created -> progress message, cancelled -> end message."""
    events: dict[tuple[int, str], float] = {}
    ready = asyncio.Event()
    listener = asyncio.create_task(status_events(server_url, events, ready))
    await ready.wait()
    body = json.dumps({"task": "detect", "model": "yolov8n.yaml", "dataset": 1, "epochs": 300, "imgsz": 64})
    ids = []
    for _ in range(runs):
        created = await curl("-H", "Content-Type: application/json", "-d", body, f"{server_url}/api/v1/sessions")
        ids.append(created["id"])
        await asyncio.sleep(0.3)
    for session_id in reversed(ids):
        await curl("-X", "POST", f"{server_url}/api/v1/sessions/{session_id}/stop")
        await asyncio.sleep(0.3)
    await asyncio.sleep(3)
    listener.cancel()
    latencies = []
    for session_id in ids[1:]:  # the first one runs: it stops rather than being cancelled
        card = [c for c in fake.sent("sendMessage") if c.text.startswith(f"#{session_id} <b>")]
        end = [c for c in fake.sent("sendMessage") if f"Run #{session_id} " in c.text and "cancelled" in c.text]
        if card and (session_id, "queued") in events:
            latencies.append(card[0].at - events[(session_id, "queued")])
        if end and (session_id, "cancelled") in events:
            latencies.append(end[0].at - events[(session_id, "cancelled")])
    return latencies


async def follow_epochs(bot: BotRuntime, http: httpx.AsyncClient, url: str, epochs: int, ends: dict[int, float]) -> None:
    """A run followed in the chat; its epoch ends are collected (as many as come within the time allowed)."""
    body = {"task": "detect", "model": "yolov8n.yaml", "dataset": 1, "epochs": epochs, "imgsz": 128, "batch": 16}
    session = (await http.post("/sessions", json=body)).json()
    listener = asyncio.create_task(epoch_ends(url, session["id"], epochs, ends))
    await bot.notifier.follow(ALLOWED_USER, SessionRead.model_validate(session), "en")
    await asyncio.wait({listener}, timeout=60 + epochs * 30)
    listener.cancel()
    await asyncio.sleep(2)  # the last edit
    await http.post(f"/sessions/{session['id']}/stop")


async def measure(work: Path, epochs: int, runs: int) -> tuple[list[float], int, list[float]]:
    fake = await FakeTelegram().start()
    server = ServerProcess(work / "data", "--api-keys", KEY, "--log-level", "warning",
                           env={"SYSTEM_SAMPLE_INTERVAL_S": "2", "SHAPES_TRAIN_IMAGES": "160"})
    server.start()
    try:
        settings = bot_settings(server.url, fake.base_url, work / "bot", api_key=KEY, edit_interval_s=1.0,
                                poll_interval_s=3.0)
        async with running_bot(settings, fake) as bot, httpx.AsyncClient(
                base_url=f"{server.url}/api/v1", headers={"X-API-Key": KEY}, timeout=30) as http:
            ends: dict[int, float] = {}
            if epochs:
                await follow_epochs(bot, http, server.url, epochs, ends)
            await bot.chat_store.set_notify(chat_id=ALLOWED_USER, mode="all", lang="en")
            announced = await measure_curl_runs(server.url, fake, runs)
    finally:
        server.stop()
        await fake.close()
    edits: dict[int, float] = {}
    for call in fake.sent("editMessageText"):
        match = re.search(r"Epoch (\d+)/", call.text)
        if match:
            edits.setdefault(int(match.group(1)), call.at)
    latencies = [edits[epoch] - ends[epoch] for epoch in sorted(ends) if epoch in edits]
    return latencies, len(ends) - len(latencies), announced


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--curl-only", action="store_true", help="only the announcements of curl runs (no training)")
    options = parser.parse_args()
    if shutil.which("curl") is None:
        sys.exit("curl is needed (the runs are started with it)")
    epochs, runs = (4, 5) if options.quick else (12, 20)
    epochs = 0 if options.curl_only else epochs
    with tempfile.TemporaryDirectory() as tmp:
        latencies, missed, announced = asyncio.run(measure(Path(tmp), epochs, runs))
    ms = [value * 1000 for value in latencies]
    if epochs:
        print(f"epoch end -> edited message at the Bot API, {len(ms)} epochs ({missed} folded into a later edit)")
        print(f"p50 {percentile(ms, 0.5):.0f} ms  p95 {percentile(ms, 0.95):.0f} ms  max {max(ms, default=float('nan')):.0f} ms")
    ms = [value * 1000 for value in announced]
    print(f"curl run created / cancelled -> its announcement at the Bot API (chat on 'all runs'), {len(ms)} messages "
          f"of {2 * (runs - 1)}")
    print(f"p50 {percentile(ms, 0.5):.0f} ms  p95 {percentile(ms, 0.95):.0f} ms  max {max(ms, default=float('nan')):.0f} ms")
    print("target: p95 < 1000 ms")


if __name__ == "__main__":
    main()
