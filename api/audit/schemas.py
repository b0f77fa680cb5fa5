"""The entry a write request builds as it goes, and what GET /audit returns."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from pydantic import BaseModel, Field


@dataclass(frozen=True, slots=True)
class AuditQuery:
    key_id: int | None = None
    action: str | None = None
    target: str | None = None
    since: float | None = None
    until: float | None = None


@dataclass(slots=True)
class PendingEntry:
    method: str
    path: str
    client: str | None
    on_behalf_of: str | None
    ts: float = field(default_factory=time.time)
    key_id: int | None = None
    action: str = ""
    target: str | None = None
    creates: bool = False  # a POST to a collection: the target is the row the change inserts
    row_id: int | None = None
    closed: bool = False

    def values(self, outcome: str, status: int | None) -> tuple[object, ...]:
        return (self.ts, self.key_id, self.on_behalf_of, self.client, self.method, self.path, self.action,
                self.target, outcome, status)


class AuditEntry(BaseModel):
    id: int
    ts: float = Field(description="Unix time the request arrived.")
    key_id: int | None = Field(description="The key that sent it.")
    on_behalf_of: str | None = Field(description="Its X-On-Behalf-Of header (the bot sends tg:<user id>).")
    client: str | None = Field(description="The client address (X-Forwarded-For only from TRUSTED_PROXIES).")
    method: str
    path: str
    action: str = Field(description="What was asked, named after the route: create_session, delete_model, ...")
    target: str | None = Field(description="What it acted on, e.g. sessions/12; for a creation the new row's id.")
    outcome: str = Field(description="ok, rejected (4xx: nothing changed) or failed (5xx).")
    status: int | None = Field(description="The HTTP status of the response.")


class AuditList(BaseModel):
    items: list[AuditEntry]
    total: int
