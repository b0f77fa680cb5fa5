"""A dataset as one deterministic tar, named by its content hash: how cluster nodes fetch it once and cache it.

Deterministic (sorted names, fixed times and owners), so the same files always give the same sha256 and a node
that has that hash never downloads it again. Built on first use, kept beside the dataset folder."""

from __future__ import annotations

import hashlib
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

_SKIP_SUFFIXES = (".cache",)  # Ultralytics label caches: rebuilt on the node


@dataclass(frozen=True, slots=True)
class DatasetArchive:
    path: Path
    sha256: str
    size: int


def _archive_paths(folder: Path) -> tuple[Path, Path]:
    return folder.with_name(f"{folder.name}.archive.tar"), folder.with_name(f"{folder.name}.archive.sha256")


def _normalised(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
    info.mode = 0o755 if info.isdir() else 0o644
    return info


def build_archive(folder: Path) -> DatasetArchive:
    """The folder's archive, built once (blocking: run it in the files pool)."""
    tar_path, sha_path = _archive_paths(folder)
    if tar_path.is_file() and sha_path.is_file():
        return DatasetArchive(tar_path, sha_path.read_text().strip(), tar_path.stat().st_size)
    partial = tar_path.with_name(f".staging-{tar_path.name}")
    with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                if not name.endswith(_SKIP_SUFFIXES):
                    path = Path(root) / name
                    tar.add(path, arcname=str(path.relative_to(folder)), recursive=False, filter=_normalised)
    digest = hashlib.sha256()
    with partial.open("rb") as source:
        while chunk := source.read(1 << 20):
            digest.update(chunk)
    sha_path.unlink(missing_ok=True)  # never a tar beside the hash of another
    partial.replace(tar_path)
    sha_path.write_text(digest.hexdigest())
    return DatasetArchive(tar_path, digest.hexdigest(), tar_path.stat().st_size)


def remove_archive(folder: Path) -> None:
    for path in _archive_paths(folder):
        path.unlink(missing_ok=True)
