"""Tenants, API keys and credential grants: creation and lookup with errors callers can act on.
(Ingestions have their own repository, autoloader_model.store.)"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from collections.abc import Sequence

from autoloader_metadata.enums import ApiScope, IngestionStatus
from autoloader_metadata.errors import Conflict, Invalid, NotFound
from autoloader_metadata.models import ApiKey, CredentialGrant, Ingestion, Tenant
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

KEY_PREFIX = "al"
KEY_FORMAT = re.compile(r"^al_([0-9a-f]{12})_([A-Za-z0-9_-]{32,})$")


class TenantRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, name: str) -> Tenant:
        tenant = Tenant(name=name)
        _insert(self.session, tenant, f"a tenant named {name!r} already exists")
        return tenant

    def get(self, tenant_id: uuid.UUID) -> Tenant:
        tenant = self.session.get(Tenant, tenant_id)
        if tenant is None:
            raise NotFound(f"tenant {tenant_id} does not exist")
        return tenant


class ApiKeyRepository:
    """Keys look like `al_<prefix>_<secret>`; only the SHA-256 of the whole key is stored.

    The keys are 256-bit random strings, so a fast hash is enough (no dictionary to guess from).
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def create(
        self, tenant_id: uuid.UUID, name: str, scopes: Sequence[ApiScope]
    ) -> tuple[ApiKey, str]:
        TenantRepository(self.session).get(tenant_id)
        plaintext = new_key()
        prefix = plaintext.split("_")[1]
        key = ApiKey(
            tenant_id=tenant_id,
            name=name,
            prefix=prefix,
            secret_hash=key_digest(plaintext),
            scopes=[scope.value for scope in scopes],
        )
        _insert(self.session, key, "API key prefix collision; try again")
        return key, plaintext

    def install(
        self,
        plaintext: str,
        tenant_name: str,
        name: str = "admin",
        scopes: Sequence[ApiScope] = (ApiScope.ADMIN,),
    ) -> tuple[ApiKey, bool]:
        """Stores a key made elsewhere (the first admin key, from a Secret) unless it is stored
        already; creates its tenant when absent. Returns the key and whether it was new."""
        match = KEY_FORMAT.match(plaintext)
        if match is None:
            raise Invalid(
                "an API key looks like al_<12 hex digits>_<at least 32 characters>; "
                "make one with `migrate new-api-key`"
            )
        existing = self.session.scalar(select(ApiKey).where(ApiKey.prefix == match.group(1)))
        if existing is not None:
            if not secret_matches(existing.secret_hash, plaintext):
                raise Conflict("another key with this prefix is stored; make a new key")
            return existing, False
        tenant = self.session.scalar(select(Tenant).where(Tenant.name == tenant_name))
        if tenant is None:
            tenant = TenantRepository(self.session).create(tenant_name)
        key = ApiKey(
            tenant_id=tenant.id,
            name=name,
            prefix=match.group(1),
            secret_hash=key_digest(plaintext),
            scopes=[scope.value for scope in scopes],
        )
        _insert(self.session, key, "API key prefix collision; make a new key")
        return key, True


def key_prefix(plaintext: str) -> str | None:
    """The visible prefix by which a presented key is looked up, or None if it is no key."""
    parts = plaintext.split("_", 2)
    return parts[1] if len(parts) == 3 and parts[0] == KEY_PREFIX else None


def secret_matches(stored_hash: str, plaintext: str) -> bool:
    """Whether `plaintext` is the key whose SHA-256 was stored (compared in constant time)."""
    return hmac.compare_digest(stored_hash, key_digest(plaintext))


def new_key() -> str:
    """A fresh API key: al_<12 hex prefix, stored to find it>_<256 random bits>."""
    return f"{KEY_PREFIX}_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"


NO_GRANT_NEEDED = frozenset({"anonymous"})  # reads only what anyone may read


class CredentialGrants:
    """Which credential references each tenant's ingestions may use."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def grant(self, tenant_id: uuid.UUID, reference: str, by: str | None) -> CredentialGrant:
        """Idempotent: granting again keeps the first grant."""
        TenantRepository(self.session).get(tenant_id)
        self.session.execute(
            insert(CredentialGrant)
            .values(tenant_id=tenant_id, credential_ref=reference, granted_by=by)
            .on_conflict_do_nothing()
        )
        found = self.session.get(CredentialGrant, (tenant_id, reference))
        assert found is not None
        return found

    def revoke(self, tenant_id: uuid.UUID, reference: str) -> None:
        removed = self.session.execute(
            delete(CredentialGrant).where(
                CredentialGrant.tenant_id == tenant_id,
                CredentialGrant.credential_ref == reference,
            )
        )
        if not getattr(removed, "rowcount", 0):
            raise NotFound(f"credential {reference!r} is not granted to tenant {tenant_id}")

    def of(self, tenant_id: uuid.UUID) -> list[CredentialGrant]:
        TenantRepository(self.session).get(tenant_id)
        return list(
            self.session.scalars(
                select(CredentialGrant)
                .where(CredentialGrant.tenant_id == tenant_id)
                .order_by(CredentialGrant.credential_ref)
            )
        )

    def in_use_ungranted(self) -> list[tuple[uuid.UUID, str, str]]:
        """(tenant id, tenant name, reference) for each credential live ingestions name
        without a grant: what turning grants on would stop."""
        reference = func.coalesce(Ingestion.credential_ref, "default")
        rows = self.session.execute(
            select(Tenant.id, Tenant.name, reference)
            .join(Ingestion, Ingestion.tenant_id == Tenant.id)
            .outerjoin(
                CredentialGrant,
                (CredentialGrant.tenant_id == Tenant.id)
                & (CredentialGrant.credential_ref == reference),
            )
            .where(
                Ingestion.status != IngestionStatus.DELETED,
                CredentialGrant.tenant_id.is_(None),
                reference.not_in(NO_GRANT_NEEDED),
            )
            .distinct()
            .order_by(Tenant.name, reference)
        ).all()
        return [(row[0], row[1], row[2]) for row in rows]

    def allows(self, tenant_id: uuid.UUID, reference: str | None) -> bool:
        """`reference` None is the worker's own identity (`default`), which needs a grant."""
        reference = (reference or "default").strip()
        if reference in NO_GRANT_NEEDED:
            return True
        return self.session.get(CredentialGrant, (tenant_id, reference)) is not None


def _insert(session: Session, row: object, conflict_message: str) -> None:
    """Adds and flushes `row` in a savepoint, turning a unique violation into Conflict."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError as error:
        if getattr(error.orig, "sqlstate", None) == "23505":  # unique_violation
            raise Conflict(conflict_message) from error
        raise


def key_digest(plaintext: str) -> str:
    """What is stored of an API key (and what the API's key cache is keyed by): its SHA-256."""
    return hashlib.sha256(plaintext.encode()).hexdigest()
