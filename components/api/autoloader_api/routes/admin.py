"""/api/v1/tenants and /api/v1/api-keys: the installation's admin keys (of the admin tenant)
manage tenants, their keys, the credentials each tenant's ingestions may use and who may write
to which table; a tenant's own admin key manages that tenant's keys, and nothing else."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from autoloader_metadata.errors import NotFound
from autoloader_metadata.models import ApiKey, Tenant
from autoloader_metadata.repositories import ApiKeyRepository, CredentialGrants, TenantRepository
from autoloader_metadata.tables import TableName, TableOwnership
from autoloader_model import validation
from fastapi import APIRouter, Query, Response
from pydantic import AfterValidator
from sqlalchemy import select
from sqlalchemy.orm import Session

from autoloader_api.auth import Admin, InstallationAdmin
from autoloader_api.errors import FieldError
from autoloader_api.routes.common import Limit, Offset, ServicesDep, errors
from autoloader_api.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    CredentialGrantCreate,
    CredentialGrantOut,
    CredentialRef,
    Page,
    Pagination,
    TableBody,
    TableOwnerOut,
    TableShareOut,
    TenantCreate,
    TenantOut,
)

router = APIRouter(prefix="/api/v1", tags=["admin"])


@router.post("/tenants", status_code=201, responses=errors(409, 422))
async def create_tenant(
    body: TenantCreate, principal: InstallationAdmin, services: ServicesDep
) -> TenantOut:
    def create(session: Session) -> TenantOut:
        tenant = TenantRepository(session).create(body.name)
        return TenantOut.model_validate(tenant, from_attributes=True)

    return await services.db.write(create)


@router.get("/tenants", responses=errors(422))
async def list_tenants(
    principal: InstallationAdmin, services: ServicesDep, limit: Limit = 50, offset: Offset = 0
) -> Page[TenantOut]:
    def read(session: Session) -> list[TenantOut]:
        rows = session.scalars(
            select(Tenant).order_by(Tenant.name).limit(limit).offset(offset)
        ).all()
        return [TenantOut.model_validate(t, from_attributes=True) for t in rows]

    items = await services.db.read(read)
    return Page(items=items, pagination=Pagination(limit=limit, offset=offset, total=None))


@router.post("/api-keys", status_code=201, responses=errors(422))
async def create_api_key(
    body: ApiKeyCreate, principal: Admin, services: ServicesDep
) -> ApiKeyCreated:
    """A new key for a tenant. The key is in this answer only; Autoloader keeps its hash."""

    if not principal.installation_admin and body.tenant_id != principal.tenant_id:
        raise FieldError(
            ["body", "tenant_id"], "a tenant's admin key makes keys of its tenant only"
        )

    def create(session: Session) -> tuple[ApiKeyOut, str]:
        try:
            key, plaintext = ApiKeyRepository(session).create(
                body.tenant_id, body.name, body.scopes
            )
        except NotFound as error:
            raise FieldError(["body", "tenant_id"], str(error)) from None
        session.flush()
        return ApiKeyOut.model_validate(key, from_attributes=True), plaintext

    out, plaintext = await services.db.write(create)
    return ApiKeyCreated(**out.model_dump(), key=plaintext)


@router.delete("/api-keys/{key_id}", status_code=204, responses=errors())
async def revoke_api_key(key_id: uuid.UUID, principal: Admin, services: ServicesDep) -> Response:
    def revoke(session: Session) -> str:
        key = session.get(ApiKey, key_id)
        if key is None or not (
            principal.installation_admin or key.tenant_id == principal.tenant_id
        ):
            raise NotFound(f"API key {key_id} does not exist")
        key.revoked_at = key.revoked_at or datetime.now(UTC)
        return key.secret_hash

    services.keys.forget(
        await services.db.write(revoke)
    )  # other processes: within the cache's time
    return Response(status_code=204)


@router.get("/tenants/{tenant_id}/credential-grants", responses=errors(404, 422))
async def list_credential_grants(
    tenant_id: uuid.UUID, principal: InstallationAdmin, services: ServicesDep
) -> Page[CredentialGrantOut]:
    def read(session: Session) -> list[CredentialGrantOut]:
        grants = CredentialGrants(session).of(tenant_id)
        return [CredentialGrantOut.model_validate(g, from_attributes=True) for g in grants]

    items = await services.db.read(read)
    pagination = Pagination(limit=max(len(items), 1), offset=0, total=len(items))
    return Page(items=items, pagination=pagination)


@router.post("/tenants/{tenant_id}/credential-grants", status_code=201, responses=errors(404, 422))
async def grant_credential(
    tenant_id: uuid.UUID,
    body: CredentialGrantCreate,
    principal: InstallationAdmin,
    services: ServicesDep,
) -> CredentialGrantOut:
    """Lets the tenant's ingestions use a credential reference (idempotent)."""

    def grant(session: Session) -> CredentialGrantOut:
        grant = CredentialGrants(session).grant(tenant_id, body.credential_ref, principal.actor)
        return CredentialGrantOut.model_validate(grant, from_attributes=True)

    return await services.db.write(grant)


@router.delete(
    "/tenants/{tenant_id}/credential-grants", status_code=204, responses=errors(404, 422)
)
async def revoke_credential(
    tenant_id: uuid.UUID,
    credential_ref: Annotated[CredentialRef, Query()],
    principal: InstallationAdmin,
    services: ServicesDep,
) -> Response:
    """Takes a grant back: ingestions that name the credential can no longer be created,
    changed or previewed, and their runs stop at discovery with the reason."""
    await services.db.write(lambda s: CredentialGrants(s).revoke(tenant_id, credential_ref))
    return Response(status_code=204)


@router.post("/tenants/{tenant_id}/tables", status_code=201, responses=errors(404, 422))
async def adopt_table(
    tenant_id: uuid.UUID, body: TableBody, principal: InstallationAdmin, services: ServicesDep
) -> TableOwnerOut:
    """Makes the tenant a table's owner: a table that exists but that no ingestion named yet,
    or another tenant's (its ingestions then stop at their next run, with the reason)."""

    def adopt(session: Session) -> TableOwnerOut:
        TenantRepository(session).get(tenant_id)
        owner = TableOwnership(session).adopt(tenant_id, _name(body), principal.actor)
        return TableOwnerOut.model_validate(owner, from_attributes=True)

    return await services.db.write(adopt)


@router.post("/tenants/{tenant_id}/table-shares", status_code=201, responses=errors(404, 422))
async def share_table(
    tenant_id: uuid.UUID, body: TableBody, principal: InstallationAdmin, services: ServicesDep
) -> TableShareOut:
    """Lets the tenant's ingestions write to (and preview) a table another tenant owns
    (idempotent); a full refresh of one of them deletes only that ingestion's rows."""

    def share(session: Session) -> TableShareOut:
        TenantRepository(session).get(tenant_id)
        name = _name(body)
        TableOwnership(session).share(tenant_id, name, principal.actor)
        return TableShareOut(
            catalog=name.catalog, namespace=name.namespace, table=name.table, tenant_id=tenant_id
        )

    return await services.db.write(share)


@router.delete("/tenants/{tenant_id}/table-shares", status_code=204, responses=errors(404, 422))
async def unshare_table(
    tenant_id: uuid.UUID,
    catalog: Annotated[str, Query(max_length=128), AfterValidator(validation.identifier)],
    namespace: Annotated[str, Query(max_length=256), AfterValidator(validation.namespace)],
    table: Annotated[str, Query(max_length=128), AfterValidator(validation.identifier)],
    principal: InstallationAdmin,
    services: ServicesDep,
) -> Response:
    name = TableName.of(catalog, namespace, table)
    await services.db.write(lambda s: TableOwnership(s).unshare(tenant_id, name))
    return Response(status_code=204)


def _name(body: TableBody) -> TableName:
    return TableName.of(body.catalog, body.namespace, body.table)
