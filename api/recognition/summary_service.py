"""The recognition summary: how many recognitions per user, model or kit, their verdicts, what goes missing."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from api.core.errors import ValidationFailed
from api.recognition.summary_schemas import MissingClass, RecognitionSummary, SummaryBy, SummaryGroup
from api.recognition.summary_store import SummaryStore


class RecognitionSummaries:
    def __init__(self, store: SummaryStore) -> None:
        self._store = store

    async def summarize(self, *, by: SummaryBy, since: float | None, until: float | None) -> RecognitionSummary:
        if since is not None and until is not None and since > until:
            raise ValidationFailed.for_field("query.from", "must not be after `to`")
        counts, missing = await self._store.summary(by=by, since=since, until=until)
        top: defaultdict[Any, list[MissingClass]] = defaultdict(list)
        for row in missing:
            top[row.pop("key")].append(MissingClass(**row))
        groups = [SummaryGroup(**row, most_missing=top.get(row["key"], [])) for row in counts]
        return RecognitionSummary(by=by, since=since, until=until, groups=groups)
