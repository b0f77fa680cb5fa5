"""API keys (stored as SHA-256 hashes), role checks, the auth-attempt log and per-client lockout."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time

from api.auth.lockout import FailureTracker, LockoutPolicy, ThrottledAttempts
from api.auth.schemas import ApiKeyCreated, ApiKeyRead, AuthAttemptList, Role
from api.auth.store import AttemptStore, KeyStore
from api.core.errors import Conflict, Forbidden, NotFound, TooManyRequests, Unauthorized

logger = logging.getLogger(__name__)

KEY_PREFIX = "tk_"


def require_owner(key: ApiKeyRead, owner_id: int | None, what: str, action: str = "delete") -> None:
    """The one ownership rule: admins may change anything, other keys only what they created; reading is the
    role's business alone (every viewer reads every session, model, dataset)."""
    if key.role != Role.admin and owner_id != key.id:
        raise Forbidden(f"Only the key that created this {what} (or an admin) may {action} it.", code="not_owner")


def hash_key(plain: str) -> str:
    # Keys are 256-bit random strings, so a fast unsalted hash is enough to make a leaked DB useless.
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def new_plain_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


class AuthManager:
    """Owns the api_keys table; keeps an in-memory index by hash so a request costs no SQL read."""

    def __init__(self, keys: KeyStore, attempts: AttemptStore, policy: LockoutPolicy | None = None) -> None:
        self._keys, self._attempts = keys, attempts
        self._by_hash: dict[str, ApiKeyRead] = {}
        self._failures = FailureTracker(policy or LockoutPolicy())
        self._throttled = ThrottledAttempts()
        self._revoked: dict[int, asyncio.Event] = {}  # open streams of a key wait on its event

    async def load(self) -> None:
        self._by_hash = await self._keys.all_by_hash()

    async def bootstrap(self, config_keys: list[str]) -> str | None:
        """Register --api-keys as admin keys; with none anywhere, create one admin key and return it."""
        await self.load()
        for index, plain in enumerate(config_keys, start=1):
            if hash_key(plain) not in self._by_hash:
                await self._insert(plain, name=f"config-{index}", role=Role.admin, source="config", created_by=None)
        if config_keys or any(key.active for key in self._by_hash.values()):
            return None
        plain = new_plain_key()
        await self._insert(plain, name="bootstrap-admin", role=Role.admin, source="bootstrap", created_by=None)
        return plain

    def authenticate(self, plain: str | None, *, client: str, method: str, path: str) -> ApiKeyRead:
        """The active key for `plain`, or Unauthorized / TooManyRequests; every call is recorded.

        A valid active key always passes: a lockout throttles failures from an address, never the bot or the
        operator behind the same proxy as a fuzzer."""
        key = self._by_hash.get(hash_key(plain)) if plain else None
        if key is not None and key.active:
            self._record(key.id, client, method, path, "ok")
            return key
        retry_after = self._failures.retry_after(client)
        if retry_after > 0:
            self._throttled.add(client, method, path)
            raise TooManyRequests(
                "Too many failed authentication attempts from this address; try again later.",
                code="auth_locked_out",
                details={"retry_after_s": int(retry_after) + 1},
                headers={"Retry-After": str(int(retry_after) + 1)},
            )
        outcome = "missing_key" if not plain else "unknown_key" if key is None else "revoked_key"
        self._record(key.id if key else None, client, method, path, outcome)
        self._failures.record_failure(client)
        message = {
            "missing_key": "An API key is required: send X-API-Key or Authorization: Bearer.",
            "unknown_key": "The API key is not valid.",
            "revoked_key": "The API key has been revoked.",
        }[outcome]
        raise Unauthorized(message, code=outcome, headers={"WWW-Authenticate": "Bearer"})

    def authorize(self, key: ApiKeyRead, needed: Role, *, client: str, method: str, path: str) -> None:
        if not key.role.allows(needed):
            self._record(key.id, client, method, path, "forbidden")
            raise Forbidden(
                f"This needs the {needed.value} role; the key has {key.role.value}.",
                details={"required_role": needed.value, "key_role": key.role.value},
            )

    async def create_key(self, *, name: str, role: Role, created_by: int | None) -> ApiKeyCreated:
        plain = new_plain_key()
        key = await self._insert(plain, name=name, role=role, source="api", created_by=created_by)
        return ApiKeyCreated(**key.model_dump(), key=plain)

    async def revoke_key(self, key_id: int) -> ApiKeyRead:
        """Revoke; its open WebSocket and SSE streams end. Keys from API_KEYS and the last admin are refused."""
        key = self.get_key(key_id)
        if not key.active:
            raise Conflict("The key is already revoked.", code="already_revoked", details={"id": key_id})
        if key.source == "config":
            raise Conflict("This key comes from API_KEYS; remove it there and restart instead.",
                           code="configured_key", details={"id": key_id})
        admins = [k for k in self._by_hash.values() if k.active and k.role == Role.admin]
        if key.role == Role.admin and len(admins) <= 1:
            raise Conflict("This is the last active admin key; create another admin key first.",
                           code="last_admin", details={"id": key_id})
        if not await self._keys.revoke(key_id):
            raise Conflict("The key is already revoked.", code="already_revoked", details={"id": key_id})
        await self.load()
        self.revoked(key_id).set()
        return self.get_key(key_id)

    def revoked(self, key_id: int) -> asyncio.Event:
        """Set when the key is revoked: what a long-lived stream of that key waits on."""
        return self._revoked.setdefault(key_id, asyncio.Event())

    def is_active(self, key_id: int) -> bool:
        return any(key.id == key_id and key.active for key in self._by_hash.values())

    def get_key(self, key_id: int) -> ApiKeyRead:
        for key in self._by_hash.values():
            if key.id == key_id:
                return key
        raise NotFound(f"API key {key_id} does not exist.", details={"id": key_id})

    def list_keys(self, *, limit: int, offset: int) -> tuple[list[ApiKeyRead], int]:
        keys = sorted(self._by_hash.values(), key=lambda k: k.id)
        return keys[offset : offset + limit], len(keys)

    async def list_attempts(self, *, limit: int, offset: int, outcome: str | None = None,
                            as_of: int | None = None) -> AuthAttemptList:
        await self.flush_attempts(final=True)
        items, total = await self._attempts.page(outcome=outcome, limit=limit, offset=offset, as_of=as_of)
        return AuthAttemptList(items=items, total=total)

    async def flush_attempts(self, *, final: bool = False) -> None:
        """Write buffered attempts in one batch: a row per request would cost a commit per request."""
        self._attempts.add(self._throttled.take(final=final))
        batch = await self._attempts.flush()
        last_used: dict[int, float] = {}
        for ts, key_id, *_rest in batch:
            if key_id is not None:
                last_used[key_id] = ts
        if last_used:  # an idle second costs no write transaction
            await self._keys.touch(last_used)
            await self.load()

    async def prune_attempts(self, older_than_s: float) -> None:
        await self._attempts.prune(older_than_s)

    def _record(self, key_id: int | None, client: str, method: str, path: str, outcome: str) -> None:
        self._attempts.add([(time.time(), key_id, client, method, path, outcome, 1)])
        level = logging.DEBUG if outcome == "ok" else logging.WARNING
        logger.log(level, "auth %s: key=%s client=%s %s %s", outcome, key_id or "unknown", client, method, path)

    async def _insert(self, plain: str, *, name: str, role: Role, source: str, created_by: int | None) -> ApiKeyRead:
        key_id = await self._keys.insert(name=name, role=role, key_hash=hash_key(plain), prefix=plain[:8],
                                         source=source, created_by=created_by)
        await self.load()
        return self.get_key(key_id)

