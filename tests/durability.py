"""What a crash or a full disk must never leave behind, checked on the SQLite file and the data dir themselves
(not through the API, which could hide a broken row behind an error)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
import zipfile
from pathlib import Path

DEBRIS_PREFIXES = (".uploads", ".staging-", ".export-")


def debris(data_dir: Path) -> list[str]:
    """Staging files and folders, and half-written annotated images, anywhere in the stores."""
    found = [p for store in ("datasets", "models", "recognitions", "runs") if (data_dir / store).is_dir()
             for p in (data_dir / store).iterdir() if p.name.startswith(DEBRIS_PREFIXES)]
    found += list((data_dir / "recognitions").glob("*/*.part"))
    # A staging dir the server recreates empty is not debris; anything in it is.
    return sorted(str(p.relative_to(data_dir)) for p in found if not (p.is_dir() and not any(p.iterdir())))


def assert_consistent(data_dir: Path) -> None:
    """PRAGMA integrity_check is ok, and every row that names a file names a whole one."""
    connection = sqlite3.connect(data_dir / "server.db")
    connection.row_factory = sqlite3.Row
    try:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for row in connection.execute("SELECT id, info FROM datasets"):
            folder = data_dir / "datasets" / str(row["id"])
            stored = sum(1 for p in folder.rglob("*") if p.is_file() and p.suffix != ".cache")
            assert stored >= sum(json.loads(row["info"])["images"].values()), f"dataset {row['id']} is incomplete"
        for row in connection.execute("SELECT id, size_bytes, sha256 FROM models"):
            weights = data_dir / "models" / f"{row['id']}.pt"
            assert weights.is_file() and weights.stat().st_size == row["size_bytes"], f"model {row['id']}"
            assert hashlib.sha256(weights.read_bytes()).hexdigest() == row["sha256"], f"model {row['id']}"
        for row in connection.execute("SELECT id, images FROM recognitions WHERE images_removed_at IS NULL"):
            folder = data_dir / "recognitions" / str(row["id"])
            for index in range(len(json.loads(row["images"]))):
                originals = list(folder.glob(f"{index}.original.*"))
                assert originals and originals[0].stat().st_size > 0, f"recognition {row['id']} image {index}"
        for row in connection.execute("SELECT id, checkpoint FROM sessions WHERE checkpoint IS NOT NULL"):
            assert zipfile.is_zipfile(row["checkpoint"]), f"session {row['id']}: partial checkpoint"
    finally:
        connection.close()


if __name__ == "__main__":  # run inside a server's namespaces (a private disk): python tests/durability.py DATA_DIR
    assert_consistent(Path(sys.argv[1]))
