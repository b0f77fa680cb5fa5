"""Recognise and validate an extracted dataset, then lay it out in the store's normal form.

Detection: data.yaml + images/{train,val} + labels/{train,val} (or {train,val,valid}/{images,labels}).
Classification: {train,val}/<class>/<image>. Only path/train/val/test/names/nc are read from the yaml.
"""

from __future__ import annotations

import math
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from PIL import Image

from api.core.errors import ValidationFailed
from api.core.text import printable
from api.registry.datasets.schemas import Task

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp"})
MAX_YAML_BYTES = 64 * 1024
MAX_REPORTED_PROBLEMS = 20
MAX_PIXELS = 50_000_000
MAX_ASPECT = 50  # longest side over shortest: a 1x6000 strip is no training image (and bombs the sample view)
_SPLIT_ALIASES = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}


@dataclass
class Problems:
    items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, file: str, reason: str, line: int | None = None) -> None:
        if len(self.items) < MAX_REPORTED_PROBLEMS:
            self.items.append({"file": file, "line": line, "reason": reason} if line else {"file": file, "reason": reason})

    def raise_if_any(self) -> None:
        if self.items:
            first = self.items[0]
            where = f"{first['file']}" + (f" line {first['line']}" if first.get("line") else "")
            raise ValidationFailed(f"The dataset is invalid: {where}: {first['reason']}.", code="invalid_dataset",
                                   details={"problems": self.items})


def find_root(extracted: Path) -> Path:
    """Archives often wrap everything in one top folder; look through it."""
    entries = [p for p in extracted.iterdir() if p.name not in ("__MACOSX", ".DS_Store")]
    if len(entries) == 1 and entries[0].is_dir():
        return find_root(entries[0])
    return extracted


def detect_task(root: Path) -> Task:
    if any((root / name).is_file() for name in ("data.yaml", "data.yml")):
        return "detect"
    if (root / "train").is_dir() and any(p.is_dir() for p in (root / "train").iterdir()):
        if not any(p.name in ("images", "labels") for p in (root / "train").iterdir()):
            return "classify"
    raise ValidationFailed(
        "Cannot tell the dataset's format: expected data.yaml with images/ and labels/ (detect) or "
        "train/<class>/ and val/<class>/ folders (classify).", code="unknown_dataset_format")


def _read_names(root: Path, problems: Problems) -> list[str]:
    path = root / "data.yaml" if (root / "data.yaml").is_file() else root / "data.yml"
    if path.stat().st_size > MAX_YAML_BYTES:
        problems.add(path.name, f"larger than {MAX_YAML_BYTES} bytes")
        problems.raise_if_any()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))  # safe_load: no Python objects, no code
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        problems.add(path.name, f"not valid YAML: {str(exc)[:200]}")
        problems.raise_if_any()
    if not isinstance(data, dict):
        problems.add(path.name, "must be a mapping")
        problems.raise_if_any()
    names = data.get("names")
    if isinstance(names, dict) and all(isinstance(k, int) for k in names):
        if sorted(names) != list(range(len(names))):
            problems.add(path.name, "names ids must be 0..N-1")
        names = [names[key] for key in sorted(names)]
    if not isinstance(names, list) or not names or not all(isinstance(n, str | int) for n in names):
        problems.add(path.name, "names missing: a list of class names or a mapping id -> name")
        problems.raise_if_any()
    nc = data.get("nc")
    if nc is not None and nc != len(names):
        problems.add(path.name, f"nc is {nc} but {len(names)} names are given")
    cleaned = [printable(name) for name in names]
    if not all(cleaned):
        problems.add(path.name, "a class name is empty (or only control characters)")
    return cleaned


def _detect_split_dirs(root: Path) -> dict[str, tuple[Path, Path]]:
    """split -> (images dir, labels dir) in either common layout."""
    found: dict[str, tuple[Path, Path]] = {}
    for alias, split in _SPLIT_ALIASES.items():
        for images, labels in ((root / "images" / alias, root / "labels" / alias),
                               (root / alias / "images", root / alias / "labels")):
            if images.is_dir() and split not in found:
                found[split] = (images, labels)
    return found


def _check_image(path: Path, shown: str, problems: Problems) -> tuple[int, int] | None:
    try:
        with Image.open(path) as image:
            size = image.size
            if size[0] * size[1] > MAX_PIXELS:
                problems.add(shown, f"image of {size[0]}x{size[1]} pixels is larger than the {MAX_PIXELS} cap")
                return None
            if max(size) > MAX_ASPECT * max(1, min(size)):
                problems.add(shown, f"image of {size[0]}x{size[1]} pixels is over {MAX_ASPECT} times longer than wide")
                return None
            image.verify()
            return size
    except Exception:  # PIL raises many types (and Ultralytics patches Image.open once imported)
        problems.add(shown, "unreadable image")
        return None


def _check_label_file(path: Path, shown: str, classes: int, problems: Problems) -> list[int]:
    ids = []
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        problems.add(shown, "not UTF-8 text")
        return ids
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 5:
            problems.add(shown, f"expected 'class x_center y_center width height', got {len(fields)} fields", number)
            continue
        try:
            cls = int(fields[0])
            coords = [float(v) for v in fields[1:]]
        except ValueError:
            problems.add(shown, "values are not numbers", number)
            continue
        if not 0 <= cls < classes:
            problems.add(shown, f"class id {cls} out of range 0..{classes - 1}", number)
        elif not all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in coords) or coords[2] <= 0 or coords[3] <= 0:
            problems.add(shown, "coordinates must be numbers in 0..1 (normalised xywh)", number)
        else:
            ids.append(cls)
    return ids


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def validate_detection(root: Path, target: Path) -> list[str]:
    """Validate and move into target/images/<split>, target/labels/<split>; returns class names."""
    problems = Problems()
    classes = _read_names(root, problems)
    splits = _detect_split_dirs(root)
    for needed in ("train", "val"):
        if needed not in splits:
            problems.add(f"images/{needed}", "missing split")
    problems.raise_if_any()
    for split, (images_dir, labels_dir) in splits.items():
        images = _images(images_dir)
        if not images and split in ("train", "val"):
            problems.add(str(images_dir.relative_to(root)), "no images")
        stems = {image.stem for image in images}
        labels = sorted(labels_dir.glob("*.txt")) if labels_dir.is_dir() else []
        for label in labels:
            shown = str(label.relative_to(root))
            if label.stem not in stems:
                problems.add(shown, "label without an image")
            else:
                _check_label_file(label, shown, len(classes), problems)
        for image in images:
            _check_image(image, str(image.relative_to(root)), problems)
    problems.raise_if_any()
    for split, (images_dir, labels_dir) in splits.items():
        _move(images_dir, target / "images" / split, IMAGE_SUFFIXES)
        if labels_dir.is_dir():
            _move(labels_dir, target / "labels" / split, frozenset({".txt"}))
    return classes


def validate_classification(root: Path, target: Path) -> list[str]:
    problems = Problems()
    splits = {_SPLIT_ALIASES[p.name]: p for p in root.iterdir() if p.is_dir() and p.name in _SPLIT_ALIASES}
    for needed in ("train", "val"):
        if needed not in splits:
            problems.add(f"{needed}/", "missing split")
    problems.raise_if_any()
    classes = sorted(p.name for p in splits["train"].iterdir() if p.is_dir())
    for name in classes:
        if printable(name) != name:  # the folder name is the class name: it cannot be cleaned, only refused
            problems.add(f"train/{name!r}/", "control characters in a class folder name")
    if len(classes) < 2:
        problems.add("train/", "needs at least two class folders")
    for split, folder in splits.items():
        for class_dir in (p for p in folder.iterdir() if p.is_dir()):
            if class_dir.name not in classes:
                problems.add(str(class_dir.relative_to(root)), "class not present in train/")
            images = _images(class_dir)
            if not images and split == "train":
                problems.add(str(class_dir.relative_to(root)), "no images")
            for image in images:
                _check_image(image, str(image.relative_to(root)), problems)
    problems.raise_if_any()
    for split, folder in splits.items():
        for class_dir in (p for p in folder.iterdir() if p.is_dir()):
            _move(class_dir, target / split / class_dir.name, IMAGE_SUFFIXES)
    return classes


def _move(source: Path, destination: Path, suffixes: frozenset[str]) -> None:
    """Only the files we validated move to the store; anything else in the archive stays behind."""
    destination.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.is_file() and path.suffix.lower() in suffixes:
            shutil.move(str(path), destination / path.name)


def validate_and_normalise(extracted: Path, target: Path, task: Task | None) -> tuple[Task, list[str]]:
    root = find_root(extracted)
    found = detect_task(root)
    if task is not None and task != found:
        raise ValidationFailed.for_field("body.task", f"the archive looks like a {found} dataset, not {task}",
                                         code="task_mismatch")
    classes = validate_detection(root, target) if found == "detect" else validate_classification(root, target)
    return found, classes
