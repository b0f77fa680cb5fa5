"""Start-up clean-up after a crash: staging leftovers, and files that no row owns.

Every file a row points at is written under a staging name and renamed into place inside the transaction that
inserts its row. So a kill -9 can leave only two kinds of debris: staging files (an upload cut off mid-stream, an
export or a copy that never finished), and a file renamed into place whose row never committed. Both are removed
here, before the server answers anything; a row whose file is missing is reported, never guessed at."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from api.core.database import Database

logger = logging.getLogger(__name__)

# Staging names used by the registries, recognitions and the exporter (see each writer).
_STAGING_PREFIXES = (".uploads", ".staging-", ".export-")
# Each store folder of the data dir and the rows that own its entries: datasets/7, models/7.pt, models/7.onnx,
# recognitions/7, runs/7, videos/7.mp4 belong to row 7 (the backup copies what this says, the sweep removes what it
# disowns).
STORES = {"datasets": "SELECT id FROM datasets", "models": "SELECT id FROM models",
          "recognitions": "SELECT id FROM recognitions", "runs": "SELECT id FROM sessions",
          "videos": "SELECT id FROM videos"}
PARTIAL_WRITES = "recognitions/*/*.part"  # an annotated JPEG cut off mid-write


@dataclass
class SweepReport:
    removed: list[str] = field(default_factory=list)  # paths relative to the data dir
    missing: list[str] = field(default_factory=list)  # "table id": rows whose file is gone


async def sweep_storage(db: Database, data_dir: Path) -> SweepReport:
    """Remove crash debris under `data_dir` and report rows without their files (run before serving)."""
    report = SweepReport()
    owners = {folder: await _ids(db, sql) for folder, sql in STORES.items()}
    present: dict[str, set[str]] = {}  # what each store holds once the debris is gone
    for folder, ids in owners.items():
        root = data_dir / folder
        present[folder] = set()
        for entry in sorted(root.iterdir()) if root.is_dir() else []:
            if _is_debris(entry, ids):
                _remove(entry)
                report.removed.append(str(entry.relative_to(data_dir)))
            else:
                present[folder].add(entry.name)
    for partial in sorted(data_dir.glob(PARTIAL_WRITES)):
        _remove(partial)
        report.removed.append(str(partial.relative_to(data_dir)))
    with_images = await _ids(db, "SELECT id FROM recognitions WHERE images_removed_at IS NULL")
    report.missing = ([f"datasets {i}" for i in sorted(owners["datasets"]) if str(i) not in present["datasets"]]
                      + [f"models {i}" for i in sorted(owners["models"]) if f"{i}.pt" not in present["models"]]
                      + [f"recognitions {i}" for i in sorted(with_images) if str(i) not in present["recognitions"]]
                      + [f"videos {i}" for i in sorted(owners["videos"] - {owner_id(n) for n in present["videos"]})])
    if report.removed:
        logger.warning("removed %d leftover(s) of an interrupted write: %s", len(report.removed),
                       ", ".join(report.removed[:20]))
    if report.missing:
        logger.error("rows whose files are missing (restore them from a backup): %s", ", ".join(report.missing))
    return report


def owner_id(name: str) -> int | None:
    """The row id an entry of a store folder belongs to; None for staging names and foreign names."""
    owner = name.split(".", 1)[0]
    return int(owner) if owner.isdigit() and not name.startswith(_STAGING_PREFIXES) else None


def is_partial_write(relative: PurePath) -> bool:
    """A file (path relative to the data dir) that a crash cut off mid-write; the sweep removes these."""
    return len(relative.parts) == len(PurePath(PARTIAL_WRITES).parts) and relative.match(PARTIAL_WRITES)


def _is_debris(entry: Path, ids: set[int]) -> bool:
    if entry.name.startswith(_STAGING_PREFIXES):
        return True
    owner = owner_id(entry.name)
    return owner is not None and owner not in ids


async def _ids(db: Database, sql: str) -> set[int]:
    return {int(row[0]) for row in await db.fetch_all(sql)}


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)
