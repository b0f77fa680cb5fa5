"""Uploads through a real server: good archives and weights are kept, hostile ones refused with 4xx,
the server stays up, nothing appears outside the data dir and nothing runs."""

from __future__ import annotations

import asyncio
import hashlib
import os
import pickle
import time
from pathlib import Path

import httpx
import pytest
import torch

from tests.archives import (
    classification_folder,
    detection_folder,
    symlink_entry,
    zip_folder,
    zip_with_entries,
)
from tests.helpers import LiveServer, assert_error


async def upload(http: httpx.AsyncClient, data: bytes, filename: str = "data.zip", **form: str) -> httpx.Response:
    return await http.post("/datasets", files={"file": (filename, data, "application/zip")}, data=form)


async def test_good_detection_archive_is_kept_with_info_and_duplicates_are_409(
    live_server: LiveServer, tmp_path: Path
) -> None:
    data = zip_folder(detection_folder(tmp_path / "ds"), prefix="my-set/")
    async with live_server.client() as http:
        created = await upload(http, data, "tools v2.zip")
        assert created.status_code == 201, created.text
        dataset = created.json()
        assert dataset["task"] == "detect" and dataset["classes"] == ["square", "circle", "triangle"]
        assert dataset["info"]["images"] == {"train": 6, "val": 2}
        assert sum(dataset["info"]["instances"].values()) > 0
        assert dataset["name"] == "tools v2" and dataset["original_filename"] == "tools v2.zip"
        assert len(dataset["sha256"]) == 64
        details = assert_error(await upload(http, data), 409, "duplicate_dataset")
        assert details["existing_id"] == dataset["id"]
        sample = await http.get(f"/datasets/{dataset['id']}/samples/0")
        assert sample.status_code == 200 and sample.content[:2] == b"\xff\xd8"
        assert_error(await http.get(f"/datasets/{dataset['id']}/samples/8"), 404, "sample_not_found")
    stored = live_server.settings.data_dir / "datasets" / str(dataset["id"])
    assert sorted(p.name for p in stored.iterdir()) == ["images", "labels"]  # no uploaded data.yaml kept


async def test_classification_archive_is_recognised(live_server: LiveServer, tmp_path: Path) -> None:
    async with live_server.client() as http:
        response = await upload(http, zip_folder(classification_folder(tmp_path / "cls")), name="cls-set")
    assert response.status_code == 201, response.text
    assert response.json()["task"] == "classify" and response.json()["name"] == "cls-set"
    assert response.json()["classes"] == ["circle", "square", "triangle"]


@pytest.mark.parametrize(
    ("entries", "reason"),
    [
        ([("../escaped.txt", b"x")], "'..' in path"),
        ([("ok/../../escaped.txt", b"x")], "'..' in path"),
        ([("/tmp/escaped-absolute.txt", b"x")], "absolute path"),
        ([("C:/escaped.txt", b"x")], "absolute path"),
        ([("..\\escaped.txt", b"x")], "backslash in path"),
        ([symlink_entry("images/link", "/etc/passwd")], "symbolic link"),
        ([("bomb.bin", b"\0" * (30 * 1024 * 1024))], "compression ratio over 200:1 (zip bomb?)"),
        # Each entry at the per-entry floor: only the whole archive's ratio gives it away.
        ([(f"zeros/{i}.bin", b"\0" * 2**20) for i in range(16)], "compression ratio over 200:1 overall (zip bomb?)"),
        ([("images", b"x"), ("images/a.jpg", b"y")], "a file and a folder of the same name, or an entry under a file"),
        ([("data.yaml/child.txt", b"x")], "a file and a folder of the same name, or an entry under a file"),
        ([("labels/" + "x" * 300 + ".txt", b"x")], "a name longer than 255 bytes"),
        ([("d/" * 2000 + "f.txt", b"x")], "nested deeper than 32 folders"),
        ([("dup.txt", b"x"), ("dup.txt", b"y")], "duplicate entry"),
    ],
)
async def test_hostile_archives_are_refused_whole(live_server: LiveServer, tmp_path: Path, entries, reason) -> None:
    data = zip_with_entries([("data.yaml", b"names: [a]\n"), *entries])
    async with live_server.client() as http:
        details = assert_error(await upload(http, data), 422, "unsafe_archive")
        assert details["reason"] == reason
        assert (await http.get("/health")).status_code == 200
        assert (await http.get("/datasets")).json()["total"] == 2  # only the built-ins
    data_dir = live_server.settings.data_dir
    for leaked in (data_dir / "escaped.txt", data_dir.parent / "escaped.txt", Path("/tmp/escaped-absolute.txt")):
        assert not leaked.exists()
    assert not [p for p in (data_dir / "datasets").iterdir() if p.name.startswith(".staging")]


async def test_not_a_zip_and_empty_files(live_server: LiveServer) -> None:
    async with live_server.client() as http:
        assert_error(await upload(http, b"this is not a zip at all"), 415, "not_a_zip")
        assert_error(await upload(http, b"PK\x03\x04garbage"), 415, "not_a_zip")
        assert_error(await upload(http, b""), 422, "empty_file")
        missing = await http.post("/datasets", data={"name": "x"})
        assert missing.status_code == 422
        assert "body.file" in [f["field"] for f in missing.json()["error"]["details"]["fields"]]


@pytest.mark.parametrize(
    ("mutate", "file", "line", "reason"),
    [
        (lambda r: (r / "labels/train/00001.txt").write_text("7 0.5 0.5 0.1 0.1\n"), "labels/train/00001.txt", 1,
         "class id 7 out of range 0..2"),
        (lambda r: (r / "labels/train/00002.txt").write_text("0 0.5 0.5 0.1 0.1\n1 1.5 0.5 0.1 0.1\n"),
         "labels/train/00002.txt", 2, "coordinates must be numbers in 0..1 (normalised xywh)"),
        (lambda r: (r / "labels/val/00000.txt").write_text("0 a b c d\n"), "labels/val/00000.txt", 1,
         "values are not numbers"),
        (lambda r: (r / "labels/train/orphan.txt").write_text("0 0.5 0.5 0.1 0.1\n"), "labels/train/orphan.txt", None,
         "label without an image"),
        (lambda r: (r / "images/train/00003.jpg").write_bytes(b"\xff\xd8 broken"), "images/train/00003.jpg", None,
         "unreadable image"),
    ],
)
async def test_bad_labels_are_named_by_file_and_line(live_server: LiveServer, tmp_path: Path, mutate, file, line,
                                                     reason) -> None:
    root = detection_folder(tmp_path / "ds")
    mutate(root)
    async with live_server.client() as http:
        details = assert_error(await upload(http, zip_folder(root)), 422, "invalid_dataset")
    assert {"file": file, "reason": reason, **({"line": line} if line else {})} in details["problems"]


@pytest.mark.parametrize(
    ("yaml_text", "reason"),
    [
        ("names: [a, b\n  nc: : 3", "not valid YAML"),
        ("!!python/object/apply:os.system ['touch /tmp/yaml-pwned']\n", "not valid YAML"),
        ("nc: 3\n", "names missing"),
        ("- just\n- a list\n", "must be a mapping"),
    ],
)
async def test_bad_yaml_is_refused_and_never_executed(live_server: LiveServer, tmp_path: Path, yaml_text,
                                                      reason) -> None:
    root = detection_folder(tmp_path / "ds", yaml_text=yaml_text)
    async with live_server.client() as http:
        details = assert_error(await upload(http, zip_folder(root)), 422, "invalid_dataset")
    assert details["problems"][0]["reason"].startswith(reason)
    assert not Path("/tmp/yaml-pwned").exists()


async def test_yaml_download_key_is_never_run(live_server: LiveServer, tmp_path: Path) -> None:
    marker = tmp_path / "download-ran"
    yaml_text = f"names: [square, circle, triangle]\ndownload: |\n  open('{marker}', 'w').write('x')\n"
    root = detection_folder(tmp_path / "ds", yaml_text=yaml_text)
    async with live_server.client() as http:
        created = await upload(http, zip_folder(root))
    assert created.status_code == 201
    assert not marker.exists()


class _CreatesFile:
    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (os.system, (f"touch {self.path}",))


async def test_model_uploads_hostile_and_good(live_server: LiveServer, tmp_path: Path, trained_weights: Path) -> None:
    marker = tmp_path / "pickle-ran"
    evil = tmp_path / "evil.pt"
    torch.save({"model": _CreatesFile(str(marker))}, evil)
    legacy = tmp_path / "legacy.pt"
    legacy.write_bytes(pickle.dumps(_CreatesFile(str(marker)), protocol=2))
    truncated = trained_weights.read_bytes()[: len(trained_weights.read_bytes()) // 2]
    async with live_server.client() as http:
        async def post(data: bytes, name: str = "m.pt") -> httpx.Response:
            return await http.post("/models", files={"file": (name, data, "application/octet-stream")})

        details = assert_error(await post(evil.read_bytes()), 422, "invalid_model")
        assert "posix.system" in details["reason"]
        assert_error(await post(legacy.read_bytes()), 422, "invalid_model")
        assert_error(await post(b"garbage garbage garbage"), 422, "invalid_model")
        assert_error(await post(truncated), 422, "invalid_model")
        assert_error(await post(b""), 422, "empty_file")
        assert not marker.exists()

        good = await post(trained_weights.read_bytes(), "tray-v1.pt")
        assert good.status_code == 201, good.text
        model = good.json()
        assert model["source"] == "upload" and model["task"] == "detect" and model["architecture"] == "yolov8n"
        assert model["classes"] == ["square", "circle", "triangle"] and model["name"] == "tray-v1"
        assert_error(await post(trained_weights.read_bytes()), 409, "duplicate_model")
        download = await http.get(f"/models/{model['id']}/download")  # the normalised copy, as registered
        assert hashlib.sha256(download.content).hexdigest() == model["sha256"] and model["validated"]

        operator = (await http.post("/keys", json={"name": "op", "role": "operator"})).json()["key"]
        refused = await http.post("/models", files={"file": ("m.pt", b"x")}, headers={"X-API-Key": operator})
        assert refused.status_code == 403
        assert_error(await http.delete(f"/models/{model['id']}", headers={"X-API-Key": operator}), 403, "not_owner")
        assert (await http.delete(f"/models/{model['id']}")).status_code == 204
        assert (await http.get(f"/models/{model['id']}")).status_code == 404


async def test_dataset_delete_rules(live_server: LiveServer, tmp_path: Path) -> None:
    async with live_server.client() as http:
        operator = (await http.post("/keys", json={"name": "op", "role": "operator"})).json()["key"]
        as_operator = {"X-API-Key": operator}
        assert_error(await http.delete("/datasets/1", headers=as_operator), 403, "not_owner")
        own = (await http.post("/datasets", headers=as_operator,
                               files={"file": ("d.zip", zip_folder(detection_folder(tmp_path / "d")))})).json()
        tiny = {"task": "detect", "model": "yolov8n.yaml", "epochs": 300, "imgsz": 64}
        await http.post("/sessions", json={**tiny, "dataset": 1})  # takes the only slot
        queued = (await http.post("/sessions", json={**tiny, "dataset": own["id"], "priority": -1})).json()
        assert_error(await http.delete(f"/datasets/{own['id']}", headers=as_operator), 409, "dataset_in_use")
        assert (await http.post(f"/sessions/{queued['id']}/stop")).json()["status"] == "cancelled"
        assert (await http.delete(f"/datasets/{own['id']}", headers=as_operator)).status_code == 204
        assert not (live_server.settings.data_dir / "datasets" / str(own["id"])).exists()


async def test_onnx_export_offline_and_download(live_server: LiveServer, trained_weights: Path) -> None:
    import onnx

    async with live_server.client() as http:
        model = (await http.post("/models", files={"file": ("m.pt", trained_weights.read_bytes())})).json()
        assert_error(await http.get(f"/models/{model['id']}/download", params={"format": "onnx"}), 404,
                     "export_not_found")
        assert (await http.post(f"/models/{model['id']}/export", params={"format": "tflite"})).status_code == 422
        started = time.monotonic()
        exported = await http.post(f"/models/{model['id']}/export", params={"format": "onnx", "imgsz": 64}, timeout=120)
        assert exported.status_code == 201, exported.text
        alone = time.monotonic() - started
        # Four identical exports at once share one export process (they used to collide on one work folder).
        started = time.monotonic()
        same = await asyncio.gather(*(http.post(f"/models/{model['id']}/export", params={"format": "onnx", "imgsz": 64},
                                                timeout=300) for _ in range(4)))
        assert [r.status_code for r in same] == [201] * 4
        assert time.monotonic() - started < 2.5 * alone + 5  # one at a time would take four exports' time
        assert exported.json()["download_url"] == f"/api/v1/models/{model['id']}/download?format=onnx"
        download = await http.get(exported.json()["download_url"].removeprefix("/api/v1"))
    assert download.status_code == 200 and len(download.content) == exported.json()["size_bytes"]
    graph = onnx.load_from_string(download.content)
    assert graph.graph.input[0].name == "images"
