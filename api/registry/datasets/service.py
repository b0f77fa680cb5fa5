"""Datasets on disk and in the `datasets` table; generates and registers the built-in ones."""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
import uuid
from pathlib import Path

from PIL import Image

from api.auth.schemas import ApiKeyRead
from api.auth.service import require_owner
from api.core.errors import Conflict
from api.core.pools import Pools
from api.core.uploads import AsyncReadable, stage_upload
from api.registry.datasets import shapes
from api.registry.datasets.archive import DatasetArchive, build_archive, remove_archive
from api.registry.datasets.archive_safety import check_zip_magic, safe_extract
from api.registry.datasets.schemas import DatasetInfo, DatasetRead, Task
from api.registry.datasets.store import DatasetStore
from api.registry.datasets.validation import validate_and_normalise

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp"})
SPLITS = ("train", "val", "test")


def _images_in(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


def _size_range(images: list[Path], sample: int = 200) -> tuple[list[int] | None, list[int] | None]:
    sizes = []
    for path in images[:: max(1, len(images) // sample)]:
        with Image.open(path) as image:
            sizes.append(image.size)
    if not sizes:
        return None, None
    return [min(w for w, _ in sizes), min(h for _, h in sizes)], [max(w for w, _ in sizes), max(h for _, h in sizes)]


def _disk_size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def scan_detection(root: Path, classes: list[str]) -> DatasetInfo:
    """Counts of a YOLO detection layout (images/<split>, labels/<split>), assumed already validated."""
    images: dict[str, int] = {}
    instances = dict.fromkeys(classes, 0)
    background = 0
    every_image: list[Path] = []
    for split in SPLITS:
        split_images = _images_in(root / "images" / split)
        if not split_images:
            continue
        images[split] = len(split_images)
        every_image += split_images
        for image in split_images:
            label = root / "labels" / split / (image.stem + ".txt")
            lines = label.read_text().split("\n") if label.is_file() else []
            ids = [int(line.split()[0]) for line in lines if line.strip()]
            background += not ids
            for cls in ids:
                instances[classes[cls]] += 1
    smallest, largest = _size_range(every_image)
    return DatasetInfo(images=images, instances=instances, background_images=background,
                       image_size_min=smallest, image_size_max=largest, size_bytes=_disk_size(root))


def scan_classification(root: Path) -> tuple[list[str], DatasetInfo]:
    """Classes and counts of a folder-per-class layout ({train,val}/<class>/*)."""
    classes = sorted(p.name for p in (root / "train").iterdir() if p.is_dir())
    images: dict[str, int] = {}
    instances = dict.fromkeys(classes, 0)
    every_image: list[Path] = []
    for split in SPLITS:
        if not (root / split).is_dir():
            continue
        for name in classes:
            found = _images_in(root / split / name)
            images[split] = images.get(split, 0) + len(found)
            instances[name] += len(found)
            every_image += found
    smallest, largest = _size_range(every_image)
    return classes, DatasetInfo(images=images, instances=instances, image_size_min=smallest,
                                image_size_max=largest, size_bytes=_disk_size(root))


class DatasetRegistry:
    def __init__(self, store: DatasetStore, root: Path, *, pools: Pools) -> None:
        self._store, self._pools = store, pools
        self._archive_lock = asyncio.Lock()
        self.root = root

    async def ensure_builtin(self, *, train_images: int) -> None:
        """Generate and register `shapes` (detect) and `shapes-cls` (classify) unless they exist."""
        existing = await self._store.builtin_names()
        if "shapes" not in existing:
            await self._build_builtin("shapes", "detect", train_images)
        if "shapes-cls" not in existing:
            await self._build_builtin("shapes-cls", "classify", train_images)

    async def get(self, dataset_id: int) -> DatasetRead:
        return await self._store.get(dataset_id)

    def path_of(self, dataset: DatasetRead) -> Path:
        return self.root / str(dataset.id)

    async def list(self, *, limit: int, offset: int, task: Task | None = None,
                   as_of: int | None = None) -> tuple[list[DatasetRead], int]:
        return await self._store.list(limit=limit, offset=offset, task=task, as_of=as_of)

    async def upload(
        self, source: AsyncReadable, *, filename: str | None, name: str | None, task: Task | None,
        created_by: int | None, max_bytes: int,
    ) -> DatasetRead:
        """Stage, check, extract, validate and normalise in a staging dir; rename into place only at the end."""
        staged = await stage_upload(source, self.root / ".uploads", max_bytes=max_bytes, suffix=".zip",
                                   writer=self._pools.files)
        work = self.root / f".staging-{uuid.uuid4().hex}"
        try:
            check_zip_magic(staged.path)
            existing = await self._store.id_with_sha256(staged.sha256)
            if existing is not None:
                raise Conflict("This archive was uploaded before.", code="duplicate_dataset",
                               details={"existing_id": existing})
            # Each extraction may write up to ArchiveLimits.max_total_bytes: a few at a time in processes of their
            # own (CPU-bound Python must not hold the GIL the event loop needs), a bounded queue, then 503.
            found_task, classes, info = await self._pools.archives.run(_unpack, staged.path, work, task)
            display = (name or Path(filename or "dataset").stem or "dataset")[:100]
            return await self._register(work / "final", name=display, task=found_task, classes=classes, info=info,
                                        source="upload", sha256=staged.sha256, created_by=created_by,
                                        original_filename=(filename or "")[:255] or None)
        finally:
            staged.path.unlink(missing_ok=True)
            await self._pools.files.run(shutil.rmtree, work, True)

    async def delete(self, dataset_id: int, *, key: ApiKeyRead) -> None:
        dataset = await self.get(dataset_id)
        require_owner(key, dataset.created_by, "dataset")
        in_use = await self._store.delete_unless_in_use(dataset_id)
        if in_use:
            raise Conflict(f"Dataset {dataset_id} is used by {in_use} queued or running session(s).",
                           code="dataset_in_use", details={"sessions": in_use})
        await self._pools.files.run(shutil.rmtree, self.path_of(dataset), True)
        await self._pools.files.run(remove_archive, self.path_of(dataset))

    async def archive(self, dataset_id: int) -> DatasetArchive:
        """The dataset as one tar named by its sha256 (what cluster nodes download once and cache)."""
        folder = self.path_of(await self.get(dataset_id))
        async with self._archive_lock:  # one build at a time: two would write the same staging file
            return await self._pools.files.run(build_archive, folder)

    async def _register(self, folder: Path, *, name: str, task: Task, classes: list[str], info: DatasetInfo,
                        source: str, sha256: str | None, created_by: int | None,
                        original_filename: str | None) -> DatasetRead:
        def place_folder(dataset_id: int) -> str:
            final = self.root / str(dataset_id)
            shutil.rmtree(final, ignore_errors=True)
            folder.rename(final)
            return final.name

        dataset_id = await self._store.insert(name=name, task=task, classes=classes, info=info, source=source,
                                              sha256=sha256, created_by=created_by,
                                              original_filename=original_filename, place_folder=place_folder)
        return await self.get(dataset_id)

    async def _build_builtin(self, name: str, task: Task, train_images: int) -> None:
        started = time.perf_counter()
        staging = self.root / f".staging-{name}"
        shutil.rmtree(staging, ignore_errors=True)
        classes, info = await asyncio.to_thread(_generate, staging, task, train_images)
        dataset = await self._register(staging, name=name, task=task, classes=classes, info=info, source="builtin",
                                       sha256=None, created_by=None, original_filename=None)
        logger.info("built-in dataset %r generated as id %s in %.1f s", name, dataset.id, time.perf_counter() - started)


def _generate(root: Path, task: Task, train_images: int) -> tuple[list[str], DatasetInfo]:
    val_images = max(2, train_images // 4)
    if task == "detect":
        shapes.generate_detection(root, train=train_images, val=val_images)
        return list(shapes.SHAPE_CLASSES), scan_detection(root, list(shapes.SHAPE_CLASSES))
    per_class = max(2, train_images // len(shapes.SHAPE_CLASSES))
    shapes.generate_classification(root, train=per_class, val=max(2, per_class // 4))
    return scan_classification(root)


def _unpack(archive: Path, work: Path, task: Task | None) -> tuple[Task, list[str], DatasetInfo]:
    extracted, final = work / "extracted", work / "final"
    extracted.mkdir(parents=True)
    safe_extract(archive, extracted)
    found, classes = validate_and_normalise(extracted, final, task)
    if found == "detect":
        return found, classes, scan_detection(final, classes)
    _, info = scan_classification(final)
    return found, classes, info

