"""Stream tracking through the server vs Ultralytics `model.track()` in-process, on the same video and model.

    .venv/bin/python benchmarks/stream_tracking.py --weights path/to/detector.pt   # ~3 minutes
    .venv/bin/python benchmarks/stream_tracking.py --quick

1. Throughput: in-process, frames are read with OpenCV and tracked one by one (persist=True, ByteTrack) as fast as
   they go: R frames/s. Through the server, a `video:` stream whose video plays at 1.25 R (so the model, not the
   source, is the limit) reports fps_proc. Target: server >= 0.95x in-process.
2. Frame-to-OSC latency: a source at half the model's rate (a frame never waits for the previous one), an OSC
   server here receives the bundles; latency = arrival - the frame's capture_ts. Target: p95 within the
   in-process tracking p95 + 10 ms.
3. Behind live: a source twice as fast as the model for 60 s (--quick: 20 s). How old each OSC frame is when it
   arrives (arrival - capture_ts), over the last 10 s, and how many frames were dropped. Target: bounded, p95
   under 2 frame-processing times (1 / fps_proc), with frames dropped instead. The arrival time is taken by a
   python-osc server in this process, on the same 2 cores, so its max includes this process being scheduled late.

Both sides use every core for torch. Without --weights an untrained yolov8n (640 px) is used: as fast as a trained
one, but it finds little to track; a detector that finds the drawn shapes makes tracking do real work.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api.core.offline import apply_offline_environment  # noqa: E402
from benchmarks.common import KEY, percentile, yolo_checkpoint  # noqa: E402
from tests.helpers import ServerProcess  # noqa: E402
from tests.stream_helpers import OscRecorder, frames_by_number  # noqa: E402
from tests.videos import write_video  # noqa: E402

PREFIX = "/bench/"


def in_process(weights: Path, video: Path, frames: int) -> tuple[float, list[float]]:
    """(frames/s, per-frame track() times in ms) reading and tracking every frame, after a warm-up."""
    import cv2
    import torch
    from ultralytics import YOLO

    model = YOLO(str(weights), task="detect")
    capture = cv2.VideoCapture(str(video))
    for _ in range(10):  # warm-up
        ok, image = capture.read()
        model.track(image, persist=True, tracker="bytetrack.yaml", verbose=False)
        torch.set_num_threads(os.cpu_count() or 1)  # the first predict resets it to cpu_count - 1; so does the server
    times, started = [], time.perf_counter()
    for _ in range(frames):
        ok, image = capture.read()
        if not ok:
            capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, image = capture.read()
        t0 = time.perf_counter()
        model.track(image, persist=True, tracker="bytetrack.yaml", verbose=False)
        times.append((time.perf_counter() - t0) * 1000)
    return frames / (time.perf_counter() - started), times


class Server:
    def __init__(self, work: Path, weights: Path) -> None:
        self.process = ServerProcess(work / "data", "--api-keys", KEY, "--log-level", "warning")
        self.process.start()
        self.http = httpx.Client(base_url=f"{self.process.url}/api/v1", headers={"X-API-Key": KEY}, timeout=60)
        self.model = self.http.post("/models", files={"file": ("m.pt", weights.read_bytes())}).json()["id"]

    def stream(self, video: Path, osc_port: int) -> int:
        uploaded = self.http.post("/videos", files={"file": (video.name, video.read_bytes())})
        assert uploaded.status_code == 201, uploaded.text
        created = self.http.post("/streams", json={
            "name": video.stem, "source": f"video:{uploaded.json()['id']}", "model": self.model,
            "sinks": {"osc": {"host": "127.0.0.1", "port": osc_port, "address_prefix": PREFIX}}})
        assert created.status_code == 201, created.text
        stream_id = created.json()["id"]
        deadline = time.monotonic() + 120
        while self.http.get(f"/streams/{stream_id}").json()["telemetry"].get("frames_processed", 0) < 5:
            assert time.monotonic() < deadline, self.http.get(f"/streams/{stream_id}").json()
            time.sleep(0.2)
        return stream_id

    def telemetry(self, stream_id: int) -> dict:
        return self.http.get(f"/streams/{stream_id}").json()["telemetry"]

    def stop(self) -> None:
        self.process.stop()


def phase(server: Server, video: Path, seconds: float) -> tuple[dict, list[float]]:
    """Runs a stream for `seconds`; (its telemetry at the end, OSC arrival - capture_ts in ms per frame, in order)."""
    with OscRecorder() as osc:
        stream_id = server.stream(video, osc.port)
        time.sleep(3)  # past the start-up frames
        osc.clear()
        time.sleep(seconds)
        telemetry = server.telemetry(stream_id)
        server.http.post(f"/streams/{stream_id}/stop")
        messages = osc.snapshot()
    arrivals = {m.args[0]: m.received for m in messages if m.address == f"{PREFIX}frame"}
    frames = frames_by_number(messages, PREFIX)
    lags = [(arrivals[n] - values["capture_ts"]) * 1000 for n, values in sorted(frames.items()) if n in arrivals]
    return telemetry, lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", type=Path, help="a detection .pt (default: an untrained yolov8n)")
    parser.add_argument("--size", type=int, default=640, help="video frame side in px")
    parser.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    frames, measure_s, behind_s = (60, 8, 20) if options.quick else (200, 20, 60)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        weights = options.weights or work / "model.pt"
        if options.weights is None:
            weights.write_bytes(yolo_checkpoint(work))
        apply_offline_environment(work / "ultralytics")
        sample = write_video(work / "sample.mp4", frames=60, fps=15, size=options.size)
        rate, track_ms = in_process(weights, sample, frames)
        print(f"in-process: {rate:.1f} frames/s, track() p50 {percentile(track_ms, 0.5):.1f} ms, "
              f"p95 {percentile(track_ms, 0.95):.1f} ms ({os.cpu_count()} torch threads, {options.size} px)")
        videos = {name: write_video(work / f"{name}.mp4", frames=60, fps=round(rate * factor, 2), size=options.size)
                  for name, factor in (("throughput", 1.25), ("latency", 0.5), ("behind", 2.0))}
        server = Server(work, weights)
        try:
            busy, _ = phase(server, videos["throughput"], measure_s)
            quiet, latency = phase(server, videos["latency"], measure_s)
            flooded, behind = phase(server, videos["behind"], behind_s)
        finally:
            server.stop()
    print(f"throughput: server {busy['fps_proc']:.1f} vs in-process {rate:.1f} frames/s = "
          f"**{busy['fps_proc'] / rate:.2f}x** (source {rate * 1.25:.1f} fps; target >= 0.95x)")
    bound = percentile(track_ms, 0.95) + 10
    print(f"frame-to-OSC latency (source {rate * 0.5:.1f} fps): p50 {percentile(latency, 0.5):.1f} ms, "
          f"**p95 {percentile(latency, 0.95):.1f} ms** vs in-process track() p95 + 10 = {bound:.1f} ms "
          f"(worker's own end_to_end p95 {quiet['latency_ms']['end_to_end']['p95']} ms)")
    recent = behind[-max(1, int(len(behind) * 10 / behind_s)):]
    frame_time = 1000 / max(flooded["fps_proc"], 1e-6)
    p95, p99 = percentile(recent, 0.95), percentile(recent, 0.99)
    print(f"behind live after {behind_s} s (source {rate * 2:.1f} fps): age of each OSC frame on arrival, last 10 s: "
          f"p50 {percentile(recent, 0.5):.1f}, **p95 {p95:.1f}**, p99 {p99:.1f}, max {max(recent):.1f} ms; "
          f"p95 = {p95 / frame_time:.2f} frame times of {frame_time:.1f} ms (target < 2; worker's own end_to_end p95 "
          f"{flooded['latency_ms']['end_to_end']['p95']} ms); dropped {flooded['dropped_frames']} of "
          f"{flooded['frames_in']} frames, queue {flooded['queue_size']}")

if __name__ == "__main__":
    main()
