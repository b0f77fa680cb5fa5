"""SQL of the recognition summary: verdict counts per user, model or kit, and the classes most missing (from the
per-image `missing` dicts in the `images` JSON, unpacked by json_each)."""

from __future__ import annotations

from typing import Any

from api.core.database import Database
from api.core.pagination import Filters

# The group key per `by`: code, never user input. A user is who the bot acted for, else the key that asked.
GROUP_KEYS = {"user": "COALESCE(r.on_behalf_of, 'key:' || r.key_id)", "model": "r.model_id", "kit": "r.kit_id"}
TOP_MISSING = 5


def _filters(since: float | None, until: float | None) -> Filters:
    # Batches still queued or running (or failed) have no verdict to count yet.
    filters = Filters().add("r.status = ?", "completed")
    return filters.add("r.created_at >= ?", since).add("r.created_at <= ?", until)


class SummaryStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def summary(self, *, by: str, since: float | None,
                      until: float | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(verdict counts per group, classes most missing per group), both of the same rows: recognitions
        stored between the two queries are left out of the second."""
        newest = await self._db.fetch_value("SELECT MAX(id) FROM recognitions") or 0
        filters = _filters(since, until).add("r.id <= ?", newest)
        return await self._verdict_counts(by, filters), await self._most_missing(by, filters)

    async def _verdict_counts(self, by: str, filters: Filters) -> list[dict[str, Any]]:
        """{key, count, complete, incomplete, unchecked} per group, the largest first."""
        rows = await self._db.fetch_all(
            f"SELECT {GROUP_KEYS[by]} AS key, COUNT(*) AS count, SUM(r.verdict = 'complete') AS complete,"
            " SUM(r.verdict = 'incomplete') AS incomplete, SUM(r.verdict = 'unchecked') AS unchecked"
            f" FROM recognitions AS r {filters.sql()} GROUP BY 1 ORDER BY count DESC, key", filters.params)
        return [dict(row) for row in rows]

    async def _most_missing(self, by: str, filters: Filters) -> list[dict[str, Any]]:
        """{key, name, count, images}: per group the TOP_MISSING classes missing most from kit checks (a count
        check's {"total": n} is no class), most objects first."""
        rows = await self._db.fetch_all(
            "WITH missing AS ("
            f" SELECT {GROUP_KEYS[by]} AS key, m.key AS name, SUM(m.value) AS count, COUNT(*) AS images"
            " FROM recognitions AS r, json_each(r.images) AS i, json_each(i.value, '$.missing') AS m"
            f" {filters.sql()} AND json_extract(r.params, '$.kit') IS NOT NULL GROUP BY 1, 2),"
            " ranked AS (SELECT *, ROW_NUMBER() OVER (PARTITION BY key ORDER BY count DESC, images DESC, name)"
            " AS rank FROM missing)"
            " SELECT key, name, count, images FROM ranked WHERE rank <= ? ORDER BY key, rank",
            [*filters.params, TOP_MISSING])
        return [dict(row) for row in rows]
