"""Start-up clean-up after a crash: staging leftovers, and files that no row owns.

Every file a row points at is written under a staging name and renamed into place inside the transaction that
inserts its row. So a kill -9 can leave only two kinds of debris: staging files (an upload cut off mid-stream, an
export or a copy that never finished), and a file renamed into place whose row never committed. Both are removed
here, before the server answers anything; a row whose file is missing is reported, never guessed at."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from api.core.database import Database

logger = logging.getLogger(__name__)

# Staging names used by the registries, recognitions and the exporter (see each writer).
_STAGING_PREFIXES = (".uploads", ".staging-", ".export-")


@dataclass
class SweepReport:
    removed: list[str] = field(default_factory=list)  # paths relative to the data dir
    missing: list[str] = field(default_factory=list)  # "table id": rows whose file is gone


async def sweep_storage(db: Database, data_dir: Path) -> SweepReport:
    """Remove crash debris under `data_dir` and report rows without their files (run before serving)."""
    report = SweepReport()
    owners = {
        "datasets": await _ids(db, "SELECT id FROM datasets"),
        "models": await _ids(db, "SELECT id FROM models"),
        "recognitions": await _ids(db, "SELECT id FROM recognitions"),
        "runs": await _ids(db, "SELECT id FROM sessions"),
    }
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
    for partial in sorted((data_dir / "recognitions").glob("*/*.part")):  # an annotated JPEG cut off mid-write
        _remove(partial)
        report.removed.append(str(partial.relative_to(data_dir)))
    with_images = await _ids(db, "SELECT id FROM recognitions WHERE images_removed_at IS NULL")
    report.missing = ([f"datasets {i}" for i in sorted(owners["datasets"]) if str(i) not in present["datasets"]]
                      + [f"models {i}" for i in sorted(owners["models"]) if f"{i}.pt" not in present["models"]]
                      + [f"recognitions {i}" for i in sorted(with_images) if str(i) not in present["recognitions"]])
    if report.removed:
        logger.warning("removed %d leftover(s) of an interrupted write: %s", len(report.removed),
                       ", ".join(report.removed[:20]))
    if report.missing:
        logger.error("rows whose files are missing (restore them from a backup): %s", ", ".join(report.missing))
    return report


def _is_debris(entry: Path, ids: set[int]) -> bool:
    if entry.name.startswith(_STAGING_PREFIXES):
        return True
    owner = entry.name.split(".", 1)[0]  # datasets/7, models/7.pt, models/7.onnx, recognitions/7, runs/7
    return owner.isdigit() and int(owner) not in ids


async def _ids(db: Database, sql: str) -> set[int]:
    return {int(row[0]) for row in await db.fetch_all(sql)}


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)
