"""SQL of the `evaluations` table (results of evaluate-kind sessions)."""

from __future__ import annotations

import json
import time
from typing import Any

from api.core.database import Database, decode_row
from api.core.errors import NotFound
from api.recognition.evaluation_schemas import EvaluationRead


class EvaluationStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def insert(self, **values: Any) -> int:
        values.setdefault("created_at", time.time())
        columns = ", ".join(values)
        return await self._db.execute(f"INSERT INTO evaluations ({columns}) VALUES ({', '.join('?' * len(values))})",
                                      list(values.values()))

    async def save_results(self, session_id: int, *, metrics: dict[str, float], per_class: dict[str, Any]) -> None:
        await self._db.execute("UPDATE evaluations SET metrics = ?, per_class = ? WHERE session_id = ?",
                               (json.dumps(metrics), json.dumps(per_class), session_id))

    async def get(self, evaluation_id: int) -> EvaluationRead:
        row = await self._db.fetch_one(
            "SELECT e.*, s.status, s.error FROM evaluations e JOIN sessions s ON s.id = e.session_id WHERE e.id = ?",
            (evaluation_id,))
        if row is None:
            raise NotFound(f"Evaluation {evaluation_id} does not exist.", code="evaluation_not_found")
        return EvaluationRead(**decode_row(row, "metrics", "per_class"))
