"""Backup and restore of a data dir, safe while the server runs.

Backup: SQLite's online backup API copies the database in one read transaction (one consistent snapshot that the
server's writes never block), then the files that the snapshot's rows own (storage_sweep.STORES says which) are
copied while hashing; a manifest (path, size, sha256 of each file) is written last, after every copy was read back.
Rows committed after the snapshot are not in it and their files are not copied; a file that changes while it is
copied (a running training's run dir) is copied as it was read, and the manifest records exactly those bytes.
Restore: every manifest entry is checked in the backup before anything is written, then copied (checked again on
the way) into an empty data dir, and the restored database must pass PRAGMA integrity_check."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from api.core.storage_sweep import STORES, is_partial_write, owner_id

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
FORMAT = 1
_CHUNK = 1024 * 1024
# runs/<id>/data is the run's view of its dataset, hard links the next start of the run lays out again
# (api/training/workspace.py); copying it would store each dataset once more per run.
_DERIVED = {"runs": "data"}


class BackupRefused(Exception):
    """Nothing was written: the target is not empty, or the backup is not whole (exit status 2)."""


class BackupFailed(Exception):
    """Copying went wrong part-way; what was written is removed again (exit status 1)."""


@dataclass(frozen=True, slots=True)
class Entry:
    path: str  # POSIX path relative to the data dir (and to the backup dir, which mirrors it)
    size: int
    sha256: str


@dataclass(slots=True)
class Manifest:
    database: str
    files: list[Entry] = field(default_factory=list)
    source: str = ""
    created_at: float = 0.0
    skipped: list[str] = field(default_factory=list)  # owned files that vanished or were links, not copied
    format: int = FORMAT

    @property
    def total_bytes(self) -> int:
        return sum(entry.size for entry in self.files)


def backup(*, database: Path, data_dir: Path, target: Path) -> Manifest:
    """Copy the server's database and the files its rows own into the empty (or absent) folder `target`."""
    data_dir = data_dir.resolve()
    if not database.is_file():
        raise BackupRefused(f"no database at {database}: is {data_dir} a server's data dir?")
    _require_empty(target, "the backup folder")
    if target.resolve().is_relative_to(data_dir):
        raise BackupRefused(f"the backup folder {target} is inside the data dir; give one outside it")
    manifest = Manifest(database=database.relative_to(data_dir).as_posix(), source=str(data_dir), created_at=time.time())
    with _removed_on_failure(target):
        _snapshot(database, target / manifest.database)
        manifest.files.append(_hash(target / manifest.database, manifest.database))
        for folder, ids in _owners(target / manifest.database).items():
            for relative in _owned_files(data_dir, folder, ids):
                copied = _copy(data_dir / relative, target / relative, relative.as_posix())
                if copied is None:
                    manifest.skipped.append(relative.as_posix())
                else:
                    manifest.files.append(copied)
        os.sync()  # the copies on disk, not only in the page cache, before the read-back and the manifest
        _raise_on_damage(target, manifest.files, BackupFailed, "the copy does not read back as written")
        _write_manifest(target, manifest)
    return manifest


def restore(*, source: Path, data_dir: Path) -> Manifest:
    """Check a backup whole, then copy it into the empty (or absent) `data_dir` and check the database."""
    manifest = read_manifest(source)
    _require_empty(data_dir, "the data dir")
    _raise_on_damage(source, manifest.files, BackupRefused, "the backup is damaged, nothing was written")
    with _removed_on_failure(data_dir):
        for entry in manifest.files:
            copied = _copy(source / entry.path, data_dir / entry.path, entry.path)
            if copied != entry:  # changed between the check and the copy
                raise BackupFailed(f"{entry.path} changed while it was restored")
        os.sync()
        result = _integrity_check(data_dir / manifest.database)
        if result != "ok":
            raise BackupFailed(f"the restored database fails PRAGMA integrity_check: {result}")
    return manifest


def read_manifest(source: Path) -> Manifest:
    """The manifest of a backup folder, refused when missing, unreadable or naming a path outside it."""
    path = source / MANIFEST
    if not path.is_file():
        raise BackupRefused(f"{source} holds no {MANIFEST}: not a backup, or one that never finished")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        manifest = Manifest(**{**raw, "files": [Entry(**entry) for entry in raw["files"]]})
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise BackupRefused(f"{path} is unreadable: {exc}") from exc
    if manifest.format != FORMAT:
        raise BackupRefused(f"{path} has format {manifest.format}; this server reads format {FORMAT}")
    unsafe = [entry.path for entry in manifest.files if not _is_safe(entry.path)]
    if unsafe:
        raise BackupRefused(f"{path} names paths outside the backup: {', '.join(unsafe[:5])}")
    if manifest.database not in {entry.path for entry in manifest.files}:
        raise BackupRefused(f"{path} lists no database file ({manifest.database})")
    return manifest


def _require_empty(folder: Path, what: str) -> None:
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise BackupRefused(f"{what} {folder} is not a folder")
    if folder.exists() and any(folder.iterdir()):
        raise BackupRefused(f"{what} {folder} is not empty; give an empty or new folder")


@contextmanager
def _removed_on_failure(folder: Path) -> Iterator[None]:
    """The folder was empty or absent before: on any failure, leave it that way again."""
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        yield
    except BaseException:
        if created:
            shutil.rmtree(folder, ignore_errors=True)
        else:
            for child in folder.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
        raise


def _snapshot(database: Path, copy: Path) -> None:
    # Read-only: the backup never writes the live database (nor checkpoints its WAL).
    source = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        destination = sqlite3.connect(copy)
        try:
            source.backup(destination)  # every page in one step: one read transaction, one consistent snapshot
            destination.execute("PRAGMA journal_mode=DELETE")  # one self-contained file; the server turns WAL on
            result = destination.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            destination.close()
    finally:
        source.close()
    if result != "ok":
        raise BackupFailed(f"the database snapshot fails PRAGMA integrity_check: {result}")


def _owners(snapshot: Path) -> dict[str, set[int]]:
    connection = sqlite3.connect(f"{snapshot.as_uri()}?mode=ro", uri=True)
    try:
        return {folder: {int(row[0]) for row in connection.execute(sql)} for folder, sql in STORES.items()}
    finally:
        connection.close()


def _owned_files(data_dir: Path, folder: str, ids: set[int]) -> Iterator[PurePosixPath]:
    """Files (relative to data_dir) of the entries of one store folder whose owner row is in `ids`."""
    root = data_dir / folder
    for entry in sorted(root.iterdir()) if root.is_dir() else []:
        if owner_id(entry.name) not in ids:
            continue
        if not entry.is_dir() or entry.is_symlink():
            yield PurePosixPath(folder, entry.name)
            continue
        for current, dirs, files in os.walk(entry):  # a folder that vanishes mid-walk is skipped, not an error
            if Path(current) == entry and folder in _DERIVED:
                dirs[:] = [name for name in dirs if name != _DERIVED[folder]]
            dirs.sort()
            relative = PurePosixPath(Path(current).relative_to(data_dir).as_posix())
            yield from (relative / name for name in sorted(files) if not is_partial_write(relative / name))


def _copy(source: Path, target: Path, name: str) -> Entry | None:
    """Copy while hashing what was read; None when the file is gone or is a link (never followed)."""
    try:
        reader = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
    except (FileNotFoundError, NotADirectoryError):
        logger.warning("%s vanished before it was copied (a row deleted, or a run's file replaced)", name)
        return None
    except OSError as exc:  # ELOOP: a link; nothing in a data dir is one, so it did not come from the server
        logger.warning("%s not copied: %s", name, exc.strerror)
        return None
    digest, size = hashlib.sha256(), 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with os.fdopen(reader, "rb") as source_file, target.open("xb") as target_file:
        while chunk := source_file.read(_CHUNK):
            digest.update(chunk)
            target_file.write(chunk)
            size += len(chunk)
        stat = os.fstat(source_file.fileno())
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return Entry(name, size, digest.hexdigest())


def _hash(path: Path, name: str) -> Entry:
    digest, size = hashlib.sha256(), 0
    with open(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return Entry(name, size, digest.hexdigest())


def _raise_on_damage(root: Path, entries: list[Entry], error: type[Exception], what: str) -> None:
    damaged = []
    for entry in entries:
        try:
            found = _hash(root / entry.path, entry.path)
        except OSError as exc:
            damaged.append(f"{entry.path} ({exc.strerror or exc})")
            continue
        if found.size != entry.size:
            damaged.append(f"{entry.path} ({found.size} bytes, the manifest says {entry.size})")
        elif found.sha256 != entry.sha256:
            damaged.append(f"{entry.path} (sha256 differs from the manifest)")
    if damaged:
        more = f" and {len(damaged) - 10} more" if len(damaged) > 10 else ""
        raise error(f"{what}: {'; '.join(damaged[:10])}{more}")


def _write_manifest(target: Path, manifest: Manifest) -> None:
    # Written last and renamed into place: a folder without it is an unfinished backup, and restore says so.
    partial = target / f".{MANIFEST}.partial"
    with partial.open("w", encoding="utf-8") as file:
        json.dump(asdict(manifest), file, indent=1)
        file.flush()
        os.fsync(file.fileno())
    partial.replace(target / MANIFEST)
    directory = os.open(target, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _integrity_check(database: Path) -> str:
    connection = sqlite3.connect(database)
    try:
        return "; ".join(str(row[0]) for row in connection.execute("PRAGMA integrity_check"))
    finally:
        connection.close()


def _is_safe(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(parts) and not PurePosixPath(path).is_absolute() and ".." not in parts and "\\" not in path
