"""Schemas of API keys and auth attempts."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class Role(StrEnum):
    viewer = "viewer"
    operator = "operator"
    admin = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_RANKS = {Role.viewer: 0, Role.operator: 1, Role.admin: 2}


class ApiKeyRead(BaseModel):
    id: int
    name: str
    role: Role
    prefix: str = Field(description="First characters of the key, to recognise it; the key itself is never shown again.")
    source: str = Field(description="'config' (from --api-keys), 'bootstrap' (first start) or 'api'.")
    created_at: float
    created_by: int | None = None
    revoked_at: float | None = None
    last_used_at: float | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, examples=["ci-runner"])
    role: Role = Field(Role.viewer, examples=["operator"])


class ApiKeyCreated(ApiKeyRead):
    key: str = Field(description="The plain key. Shown once; only its hash is stored.")


class ApiKeyList(BaseModel):
    items: list[ApiKeyRead]
    total: int


class AuthAttemptRead(BaseModel):
    id: int
    ts: float
    key_id: int | None
    client: str
    method: str
    path: str
    outcome: str = Field(description="ok, unknown_key, revoked_key, missing_key, locked_out or forbidden.")
    count: int = Field(1, description="Requests this row stands for: locked_out refusals are one row per address "
                                      "per minute.")


class AuthAttemptList(BaseModel):
    items: list[AuthAttemptRead]
    total: int


class WhoAmI(BaseModel):
    key: ApiKeyRead
    on_behalf_of: str | None = None
