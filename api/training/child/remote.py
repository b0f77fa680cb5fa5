"""What runs on a cluster node, inside a Ray actor: fetch the run's inputs, train, report over HTTP.

Inputs come from the server, authenticated with the run's session token: the dataset as a tar named by its
sha256 (downloaded once per node, then cached), the base model, the checkpoint to resume from. Everything the
run says goes through the public ingest API (http_channel.py); its weights go back as artifacts."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import shutil
import socket
import sys
import tarfile
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from api.core.offline import apply_offline_environment
from api.training.child.channel import LineStream
from api.training.child.contract import RunSpec
from api.training.child.http_channel import HttpChannel, IngestClient


@dataclass(frozen=True, slots=True, kw_only=True)
class RemoteRun:
    """A RunSpec and where its inputs are; built by the Ray executor (api/training/executors/ray_cluster.py)."""

    spec: RunSpec
    server_url: str
    token: str
    dataset_id: int
    dataset_sha256: str
    classes: list[str]
    cache_root: str  # on the node; each node keeps its own folder under it
    resume_artifact_id: int | None = None
    base_model_id: int | None = None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One run per node fetches a given dataset; another waits and then finds it there."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_dataset(client: IngestClient, run: RemoteRun, datasets: Path, channel: HttpChannel) -> Path:
    target = datasets / run.dataset_sha256
    with _locked(datasets / f".{run.dataset_sha256}.lock"):
        if target.is_dir():
            channel.log(f"dataset {run.dataset_sha256[:12]} is cached on this node: not downloaded")
            return target
        archive = datasets / f"{run.dataset_sha256}.tar"
        fetched = client.download(f"/datasets/{run.dataset_id}/archive", archive)
        if _sha256(archive) != run.dataset_sha256:
            archive.unlink()
            raise RuntimeError("the dataset archive does not match its sha256: refusing it")
        unpacking = datasets / f".unpacking-{run.dataset_sha256}"
        shutil.rmtree(unpacking, ignore_errors=True)
        with tarfile.open(archive) as tar:
            tar.extractall(unpacking, filter="data")  # no links out, no absolute paths, no devices
        unpacking.replace(target)
        archive.unlink()
        channel.log(f"dataset {run.dataset_sha256[:12]} downloaded to this node ({fetched} bytes)")
        return target


def _data_argument(spec: RunSpec, dataset: Path, run_dir: Path, classes: list[str]) -> str:
    """What Ultralytics' `data` is on this node: the cached folder (classify) or a data.yaml we write (detect)."""
    if spec.task == "classify":
        return str(dataset)
    splits = {split: f"images/{split}" for split in ("train", "val", "test") if (dataset / "images" / split).is_dir()}
    data_yaml = run_dir / "data.yaml"
    data_yaml.write_text(json.dumps({"path": str(dataset), **splits, "names": dict(enumerate(classes))}))
    return str(data_yaml)


def _device() -> str:
    import ray

    gpus = ray.get_gpu_ids()  # Ray set CUDA_VISIBLE_DEVICES to these: inside, they are 0..n-1
    return ",".join(str(index) for index in range(len(gpus))) if gpus else "cpu"


def run_on_node(run: RemoteRun, node_id: str) -> str:
    """Train `run` on this node; returns how it ended (completed / stopped / failed), already reported."""
    from api.training.child import runner

    node_dir = Path(run.cache_root).expanduser() / node_id[:16]
    run_dir = node_dir / "runs" / str(run.spec.session_id)
    run_dir.mkdir(parents=True, exist_ok=True)
    client = IngestClient(run.server_url, run.token, run.spec.session_id)
    channel = HttpChannel(client)
    saved = sys.stdout, sys.stderr, os.getcwd()
    sys.stdout, sys.stderr = LineStream(channel, "INFO"), LineStream(channel, "WARNING")  # type: ignore[assignment]
    outcome, error = "failed", None
    try:
        channel.log(f"running on node {node_id[:12]} ({socket.gethostname()})")
        dataset = fetch_dataset(client, run, node_dir / "datasets", channel)
        os.chdir(run_dir)
        changes: dict[str, Any] = {"data": _data_argument(run.spec, dataset, run_dir, run.classes),
                                   "run_dir": str(run_dir), "config_dir": str(node_dir / "ultralytics"),
                                   "device": _device(), "memory_limit_mb": None, "resume": None}
        if run.base_model_id is not None:
            client.download(f"/models/{run.base_model_id}/download", run_dir / "base.pt")
            changes["model"] = str(run_dir / "base.pt")
        if run.resume_artifact_id is not None:
            client.download(f"/sessions/{run.spec.session_id}/artifacts/{run.resume_artifact_id}", run_dir / "resume-from.pt")
            changes["resume"] = str(run_dir / "resume-from.pt")
        spec = dataclasses.replace(run.spec, **changes)
        apply_offline_environment(Path(spec.config_dir))
        result = runner.train(spec, channel, client.stop_requested)  # type: ignore[arg-type]
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        channel.close()
        client.upload(Path(result.best), name="best.pt", role="model")
        outcome = "stopped" if result.stopped else "completed"
    except BaseException as exc:
        error = f"{type(exc).__name__}: {exc}"[:2000]
        for line in traceback.format_exc().splitlines():
            channel.log(line, "ERROR")
    finally:
        sys.stdout, sys.stderr = saved[0], saved[1]
        os.chdir(saved[2])
        if not channel.closed:
            channel.close()
    client.finish(outcome, error)
    return outcome


class TrainingWorker:
    """The Ray actor (decorated by the executor, so this module does not need Ray to import)."""

    def where(self) -> dict[str, Any]:
        import ray

        return {"node_id": ray.get_runtime_context().get_node_id(), "host": socket.gethostname(), "pid": os.getpid(),
                "gpus": [str(gpu) for gpu in ray.get_gpu_ids()]}

    def train(self, run: RemoteRun) -> str:
        import ray

        return run_on_node(run, ray.get_runtime_context().get_node_id())
