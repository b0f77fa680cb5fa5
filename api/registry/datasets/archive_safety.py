"""Safe extraction of uploaded zip archives: the whole archive is refused on the first hostile entry."""

from __future__ import annotations

import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from api.core.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_DRIVE = re.compile(r"^[A-Za-z]:")
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    max_entries: int = 100_000
    max_total_bytes: int = 4 * 1024**3
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 1 << 20  # tiny entries compress well legitimately; judge ratios above this size
    max_depth: int = 32
    max_component_bytes: int = 255  # what ext4 and most file systems allow
    max_path_bytes: int = 1024  # well under Linux's PATH_MAX (4096) with the staging folder in front


def refuse(entry: str, reason: str) -> ValidationFailed:
    return ValidationFailed(f"The archive was refused: {reason} ({entry!r}).", code="unsafe_archive",
                            details={"entry": entry[:300], "reason": reason})


def check_zip_magic(path: Path) -> None:
    with path.open("rb") as handle:
        head = handle.read(4)
    if head not in ZIP_MAGIC:
        raise UnsupportedMediaType("The upload is not a zip archive.", code="not_a_zip")


def _check_name(name: str) -> PurePosixPath:
    if "\x00" in name:
        raise refuse(name, "NUL byte in name")
    if "\\" in name:
        raise refuse(name, "backslash in path")
    if name.startswith("/") or _DRIVE.match(name):
        raise refuse(name, "absolute path")
    path = PurePosixPath(name)
    if any(part == ".." for part in path.parts):
        raise refuse(name, "'..' in path")
    return path


def _check_type(info: zipfile.ZipInfo) -> None:
    mode = info.external_attr >> 16
    kind = stat.S_IFMT(mode)
    if kind == stat.S_IFLNK:
        raise refuse(info.filename, "symbolic link")
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        raise refuse(info.filename, "not a regular file")


def _check_shape(path: PurePosixPath, name: str, limits: ArchiveLimits) -> None:
    if len(path.parts) > limits.max_depth:
        raise refuse(name, f"nested deeper than {limits.max_depth} folders")
    if any(len(part.encode()) > limits.max_component_bytes for part in path.parts):
        raise refuse(name, f"a name longer than {limits.max_component_bytes} bytes")
    if len(str(path).encode()) > limits.max_path_bytes:  # else the OS refuses it mid-extraction: a 500, not a 422
        raise refuse(name, f"a path longer than {limits.max_path_bytes} bytes")


def _check_tree(entries: list[zipfile.ZipInfo]) -> None:
    """No two entries for one file, no file that is also a folder, nothing under a file."""
    files: set[PurePosixPath] = set()
    folders: set[PurePosixPath] = set()
    for info in entries:
        path = _check_name(info.filename)
        if path == PurePosixPath("."):
            continue
        parents = set(path.parents) - {PurePosixPath(".")}
        if info.is_dir():
            parents.add(path)
        elif path in files:
            raise refuse(info.filename, "duplicate entry")
        else:
            files.add(path)
        folders |= parents
    clash = sorted(files & folders)
    if clash:
        raise refuse(str(clash[0]), "a file and a folder of the same name, or an entry under a file")


def check_entries(archive: zipfile.ZipFile, limits: ArchiveLimits) -> list[zipfile.ZipInfo]:
    """Every entry checked before a byte is written; declared sizes are checked here, real ones while copying."""
    entries = archive.infolist()
    if len(entries) > limits.max_entries:
        raise refuse(f"{len(entries)} entries", f"more than {limits.max_entries} entries")
    total = compressed = 0
    for info in entries:
        _check_shape(_check_name(info.filename), info.filename, limits)
        _check_type(info)
        total += info.file_size
        compressed += info.compress_size
        if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise refuse(info.filename, f"compression ratio over {limits.max_ratio:.0f}:1 (zip bomb?)")
    # Many small entries each under the floor add up: the whole archive is judged too.
    if total > limits.ratio_floor_bytes and total > limits.max_ratio * max(compressed, 1):
        raise refuse(f"{len(entries)} entries", f"compression ratio over {limits.max_ratio:.0f}:1 overall (zip bomb?)")
    _check_tree(entries)
    if total > limits.max_total_bytes:
        raise PayloadTooLarge(f"The archive unpacks to more than {limits.max_total_bytes} bytes.",
                              code="archive_too_large", details={"max_bytes": limits.max_total_bytes})
    return entries


def safe_extract(zip_path: Path, destination: Path, limits: ArchiveLimits | None = None) -> None:
    """Extract into `destination` (a fresh staging dir); sizes are enforced on the bytes actually written."""
    limits = limits or ArchiveLimits()
    try:
        archive = zipfile.ZipFile(zip_path)
    except zipfile.BadZipFile as exc:
        raise UnsupportedMediaType(f"The upload is not a readable zip archive: {exc}", code="not_a_zip") from None
    with archive:
        written = 0
        for info in check_entries(archive, limits):
            target = destination.joinpath(*_check_name(info.filename).parts)
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            written += _copy_entry(archive, info, target, limits, limits.max_total_bytes - written)


def _copy_entry(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limits: ArchiveLimits,
                budget: int) -> int:
    copied = 0
    try:
        with archive.open(info) as source, target.open("xb") as sink:
            while chunk := source.read(_CHUNK):
                copied += len(chunk)
                if copied > info.file_size or copied > budget:
                    raise refuse(info.filename, "entry larger than it declares (zip bomb?)")
                sink.write(chunk)
    except FileExistsError:
        raise refuse(info.filename, "duplicate entry") from None
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise ValidationFailed(f"The archive is corrupt: {exc}", code="corrupt_archive",
                               details={"entry": info.filename[:300]}) from None
    return copied
