"""Per-run tokens of cluster workers: each may report into its one session, for one attempt, until the run ends.

Kept in memory (loaded at start, written through to SQLite) so the body gate checks them with no SQL read,
before a request body is read. Only hashes are stored; the plain token goes once to the worker it was made for."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from api.core.errors import Forbidden, Unauthorized
from api.training.ingest.store import TokenStore

TOKEN_PREFIX = "st_"


@dataclass(frozen=True, slots=True)
class SessionGrant:
    """What a valid token lets its bearer do: report into `session_id`, attempt `attempt`."""

    session_id: int
    attempt: int
    expires_at: float


def _hash(plain: str) -> str:
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def is_session_token(credential: str | None) -> bool:
    return bool(credential) and credential.startswith(TOKEN_PREFIX)  # type: ignore[union-attr]


class SessionTokens:
    def __init__(self, store: TokenStore, *, ttl_s: float = 365 * 86400) -> None:
        """`ttl_s` only bounds a token whose run was never settled: a run's end expires its tokens at once."""
        self._store, self._ttl_s = store, ttl_s
        self._by_hash: dict[str, SessionGrant] = {}

    async def load(self) -> None:
        self._by_hash = {token_hash: SessionGrant(session_id, attempt, expires_at)
                         for token_hash, session_id, attempt, expires_at in await self._store.all()}

    async def issue(self, session_id: int, attempt: int) -> str:
        """A new token for this attempt; earlier attempts' tokens end now (a worker on a lost node is fenced off)."""
        await self.expire(session_id)
        plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
        grant = SessionGrant(session_id, attempt, time.time() + self._ttl_s)
        await self._store.insert(_hash(plain), session_id, attempt, grant.expires_at)
        self._by_hash[_hash(plain)] = grant
        return plain

    async def expire(self, session_id: int) -> None:
        """The session's tokens stop working now (kept, so their bearer hears 'expired', not 'unknown')."""
        now = time.time()
        await self._store.expire(session_id, now)
        for token_hash, grant in list(self._by_hash.items()):
            if grant.session_id == session_id and grant.expires_at > now:
                self._by_hash[token_hash] = SessionGrant(grant.session_id, grant.attempt, now)

    def check(self, plain: str, session_id: int | None) -> SessionGrant:
        """The grant of a live token for `session_id`; 401 for an unknown or expired token, 403 for another session."""
        grant = self._by_hash.get(_hash(plain))
        if grant is None:
            raise Unauthorized("The session token is not valid.", code="unknown_token",
                               headers={"WWW-Authenticate": "Bearer"})
        if grant.expires_at <= time.time():
            raise Unauthorized("The session token has expired: its run has ended.", code="token_expired",
                               headers={"WWW-Authenticate": "Bearer"})
        if session_id is not None and grant.session_id != session_id:
            raise Forbidden(f"This token reports into session {grant.session_id} only.", code="token_scope",
                            details={"session_id": grant.session_id})
        return grant
