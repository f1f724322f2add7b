"""API keys: bearer tokens that belong to a tenant and carry scopes (admin > write > read)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

from autoloader_metadata.enums import ApiScope
from autoloader_metadata.repositories import key_digest, key_prefix, secret_matches
from autoloader_model.store import SqlStatement
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

if TYPE_CHECKING:
    from autoloader_api.database import Database

RANK = {ApiScope.READ: 1, ApiScope.WRITE: 2, ApiScope.ADMIN: 3}
bearer = HTTPBearer(auto_error=False, description="An Autoloader API key: al_<prefix>_<secret>")


@dataclass(frozen=True)
class Principal:
    tenant_id: uuid.UUID
    key_id: uuid.UUID
    key_name: str
    scopes: frozenset[ApiScope]
    # A key of the installation's admin tenant (AUTOLOADER_ADMIN_TENANT): its admin scope spans
    # tenants. Any other tenant's admin key manages that tenant's own keys only.
    installation: bool = False

    @property
    def installation_admin(self) -> bool:
        return self.installation and self.can(ApiScope.ADMIN)

    def can(self, scope: ApiScope) -> bool:
        return any(RANK[held] >= RANK[scope] for held in self.scopes)

    @property
    def actor(self) -> str:
        """Who did it, for the audit columns: the key's name and prefix, never the key."""
        return f"key:{self.key_name}"[:128]


class KeyCache:
    """Keys recently found valid, by their SHA-256, for `seconds`: most requests then skip the
    database. A revoked key stops working within that time."""

    def __init__(self, seconds: float, size: int = 10_000) -> None:
        self.seconds = seconds
        self.size = size
        self._found: dict[str, tuple[float, Principal]] = {}

    def get(self, plaintext: str) -> Principal | None:
        entry = self._found.get(key_digest(plaintext))
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def forget(self, digest: str) -> None:
        """Drops a key by its stored hash (the same SHA-256), as when it is revoked."""
        self._found.pop(digest, None)

    def put(self, plaintext: str, principal: Principal) -> None:
        if self.seconds <= 0:
            return
        if len(self._found) >= self.size:
            self._found.clear()
        self._found[key_digest(plaintext)] = (time.monotonic() + self.seconds, principal)


_LIVE_KEY = (
    "SELECT k.id, k.tenant_id, k.name, k.secret_hash, k.scopes, t.name AS tenant_name"
    " FROM api_keys k JOIN tenants t ON t.id = k.tenant_id"
    " WHERE k.prefix = $1 AND k.revoked_at IS NULL"
)


async def _look_up(db: Database, plaintext: str, admin_tenant: str) -> Principal | None:
    """The live key presented; a cache miss waits on PostgreSQL without holding up the
    process's other requests."""
    prefix = key_prefix(plaintext)
    if prefix is None:
        return None

    rows = await db.fetch(SqlStatement(_LIVE_KEY, (prefix,)))
    row = rows[0] if rows else None
    if row is None or not secret_matches(row["secret_hash"], plaintext):
        return None
    scopes = frozenset(ApiScope(s) for s in row["scopes"])
    installation = row["tenant_name"] == admin_tenant
    return Principal(row["tenant_id"], row["id"], row["name"], scopes, installation)


def require(scope: ApiScope) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency: the caller's key, which must hold `scope` (or a higher one)."""

    async def principal(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Principal:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(
                401,
                "an API key is required: Authorization: Bearer <key>",
                headers={"WWW-Authenticate": "Bearer"},
            )
        services = request.app.state.services
        found: Principal | None = services.keys.get(credentials.credentials)
        if found is None:
            found = await _look_up(
                services.db, credentials.credentials, services.settings.admin_tenant
            )
            if found is None:
                raise HTTPException(
                    401,
                    "the API key is not valid or was revoked",
                    headers={"WWW-Authenticate": "Bearer"},
                )
            services.keys.put(credentials.credentials, found)
        if not found.can(scope):
            raise HTTPException(403, f"this API key lacks the {scope.value} scope")
        return found

    return principal


Reader = Annotated[Principal, Depends(require(ApiScope.READ))]
Writer = Annotated[Principal, Depends(require(ApiScope.WRITE))]
Admin = Annotated[Principal, Depends(require(ApiScope.ADMIN))]


async def _installation_admin(principal: Admin) -> Principal:
    if not principal.installation_admin:
        raise HTTPException(
            403, "only an installation admin (a key of the admin tenant) may do this"
        )
    return principal


InstallationAdmin = Annotated[Principal, Depends(_installation_admin)]
