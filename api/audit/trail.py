"""One audit row per write request of a known key, written in the same transaction as the change it records.

A request's entry is armed once its key is authorized: the next transaction that commits in the request's context
carries the row (core.database.before_commit), so a committed change never lacks its row and a row never describes
a change that rolled back. A request that changed nothing (refused, failed, or a pure signal such as a stop that
only reaches a child) gets its row when the response is known."""

from __future__ import annotations

import logging
import time

from api.audit.schemas import AuditEntry, AuditQuery, PendingEntry
from api.audit.store import AuditStore
from api.core.errors import disk_full

logger = logging.getLogger(__name__)


def outcome_of(status: int) -> str:
    return "ok" if status < 400 else "rejected" if status < 500 else "failed"


class AuditTrail:
    def __init__(self, store: AuditStore) -> None:
        self.store = store

    def arm(self, entry: PendingEntry) -> None:
        """From now on in this request's context, the first commit writes the entry with it."""
        self.store.write_with_next_commit(entry)

    async def prune(self, *, retention_s: float) -> None:
        removed = await self.store.prune(older_than=time.time() - retention_s)
        if removed:
            logger.info("audit log: removed %d rows older than %.0f days", removed, retention_s / 86400)

    async def page(self, query: AuditQuery, *, limit: int, offset: int) -> tuple[list[AuditEntry], int]:
        return await self.store.page(query, limit=limit, offset=offset)

    async def finish(self, entry: PendingEntry, status: int) -> None:
        """The response is known: settle the row written with the change, or write one for a request that
        changed nothing. Never raises: the client already has its answer."""
        entry.closed = True
        if entry.key_id is None:  # unauthenticated: the auth-attempt log has it
            return
        try:
            if entry.row_id is None:
                await self.store.insert(entry.values(outcome_of(status), status))
            else:
                await self.store.settle(entry.row_id, outcome=outcome_of(status), status=status)
        except Exception as exc:
            if disk_full(exc):  # the request was refused for the same reason; a traceback would add nothing
                logger.warning("audit row of %s %s not written: the disk is full", entry.method, entry.path)
            else:
                logger.exception("could not write the audit row of %s %s", entry.method, entry.path)
