"""Builders of good and hostile archives and weight files for registry tests."""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path

from api.registry.datasets.shapes import generate_classification, generate_detection


def zip_folder(folder: Path, *, prefix: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, prefix + str(path.relative_to(folder)))
    return buffer.getvalue()


def detection_folder(root: Path, *, train: int = 6, val: int = 2, yaml_text: str | None = None) -> Path:
    generate_detection(root, train=train, val=val, seed=7)
    (root / "data.yaml").write_text(yaml_text or "names: [square, circle, triangle]\nnc: 3\n")
    return root


def classification_folder(root: Path) -> Path:
    generate_classification(root, train=3, val=1, seed=3)
    return root


def zip_with_entries(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return buffer.getvalue()


def symlink_entry(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()
