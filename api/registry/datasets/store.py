"""SQL of the `datasets` table. A row and its folder land together: the folder is placed inside the transaction."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

from api.core.database import Database, decode_row
from api.core.errors import NotFound
from api.core.pagination import Filters, fetch_page
from api.registry.datasets.schemas import DatasetInfo, DatasetRead, Task
from api.registry.in_use import delete_unless_in_use


def _dataset_from_row(row: object) -> DatasetRead:
    data = decode_row(row, "classes", "info")
    data.pop("path", None)
    return DatasetRead(**data)


class DatasetStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def builtin_names(self) -> set[str]:
        return {row["name"] for row in await self._db.fetch_all("SELECT name FROM datasets WHERE source = 'builtin'")}

    async def get(self, dataset_id: int) -> DatasetRead:
        row = await self._db.fetch_one("SELECT * FROM datasets WHERE id = ?", (dataset_id,))
        if row is None:
            raise NotFound(f"Dataset {dataset_id} does not exist.", code="dataset_not_found", details={"id": dataset_id})
        return _dataset_from_row(row)

    async def list(self, *, limit: int, offset: int, task: Task | None,
                   as_of: int | None = None) -> tuple[list[DatasetRead], int]:
        return await fetch_page(self._db, table="datasets", filters=Filters().add("task = ?", task), order_by="id",
                                limit=limit, offset=offset, as_of=as_of, decode=_dataset_from_row)

    async def id_with_sha256(self, sha256: str) -> int | None:
        return await self._db.fetch_value("SELECT id FROM datasets WHERE sha256 = ?", (sha256,))

    async def insert(self, *, name: str, task: Task, classes: list[str], info: DatasetInfo, source: str,
                     sha256: str | None, created_by: int | None, original_filename: str | None,
                     place_folder: Callable[[int], str]) -> int:
        """The row, and `place_folder(id)` (which returns the stored folder name) in the same transaction."""
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "INSERT INTO datasets (name, task, source, path, classes, info, sha256, created_at, created_by,"
                " original_filename) VALUES (?, ?, ?, '', ?, ?, ?, ?, ?, ?)",
                (name, task, source, json.dumps(classes), info.model_dump_json(), sha256, time.time(), created_by,
                 original_filename),
            )
            dataset_id = int(cursor.lastrowid or 0)
            await conn.execute("UPDATE datasets SET path = ? WHERE id = ?", (place_folder(dataset_id), dataset_id))
        return dataset_id

    async def delete_unless_in_use(self, dataset_id: int) -> int:
        return await delete_unless_in_use(self._db, table="datasets", row_id=dataset_id, session_column="dataset_id")
