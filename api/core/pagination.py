"""One way to page a table: a WHERE built from optional filters, COUNT(*) and one LIMIT/OFFSET query."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from api.core.database import Database

T = TypeVar("T")


class Filters:
    """AND-ed conditions; `add` skips a filter whose value is None, so optional query params read naturally."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.params: list[Any] = []

    def add(self, clause: str, value: Any) -> Filters:
        if value is not None:
            self.clauses.append(clause)
            self.params.append(value)
        return self

    def add_in(self, column: str, values: Sequence[Any] | None) -> Filters:
        if values:
            self.clauses.append(f"{column} IN ({','.join('?' * len(values))})")
            self.params.extend(values)
        return self

    def sql(self) -> str:
        return f"WHERE {' AND '.join(self.clauses)}" if self.clauses else ""


async def fetch_page(
    db: Database, *, table: str, filters: Filters, order_by: str, limit: int, offset: int,
    decode: Callable[[Any], T], columns: str = "*", as_of: int | None = None,
) -> tuple[list[T], int]:
    """(items of this page, total matching). `table`, `columns` and `order_by` are code, never user input.

    `as_of` leaves out rows with a higher id: rows inserted while a client pages cannot shift its window."""
    where, params = filters.sql(), filters.params
    if as_of is not None:
        where = f"{where} AND id <= ?" if where else "WHERE id <= ?"
        params = [*params, as_of]
    total = await db.fetch_value(f"SELECT COUNT(*) FROM {table} {where}", params)
    rows = await db.fetch_all(f"SELECT {columns} FROM {table} {where} ORDER BY {order_by} LIMIT ? OFFSET ?",
                              [*params, limit, offset])
    return [decode(row) for row in rows], int(total)
