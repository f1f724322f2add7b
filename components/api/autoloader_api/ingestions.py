"""Changing an ingestion and its Prefect deployment without holding anything across a call.

A change is one short transaction: the row is written as its next version under a
compare-and-set (`version = expected`), then committed. The deployment is written after the
commit, from the row as it then stands, and the row records the version it was written from
(`deployed_version`). Two writers to one ingestion never wait on each other inside a
transaction: the second one's compare-and-set fails and it merges its change into the new
version (without If-Match) or answers 412 (with it). Whichever writer's deployment write lands
last checks that the row did not move meanwhile and writes again if it did, so the row and its
deployment agree once the writes end. Prefect being down leaves the change stored and its
deployment pending, visibly; reconciliation writes it when Prefect is back.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from autoloader_metadata.enums import FileStatus, IngestionStatus
from autoloader_metadata.errors import Conflict, StaleVersion
from autoloader_metadata.ledger import FileLedger
from autoloader_metadata.repositories import CredentialGrants
from autoloader_metadata.tables import TableNotAvailable, TableOwnership
from autoloader_model.ingestion import Ingestion
from autoloader_model.spec import IngestionSpec, merged
from autoloader_model.store import IngestionStore, destination_of
from autoloader_orchestration.queues import QueueNames
from autoloader_orchestration.scheduling import Orchestrator
from fastapi.exceptions import RequestValidationError
from prefect.client.schemas.objects import FlowRun
from pydantic import ValidationError
from sqlalchemy.orm import Session

from autoloader_api import quotas
from autoloader_api.auth import Principal
from autoloader_api.errors import TABLE_LOC, FieldError, OrchestratorUnavailable
from autoloader_api.services import Services
from autoloader_storage.errors import ReachRefused, SparkAccessRefused
from autoloader_storage.uri import parse_source_uri

# A write without If-Match merges into the latest version; this many tries under contention.
MERGE_ATTEMPTS = 8
# One deployment write at a time per ingestion in this process: writers queue behind it and
# usually find their version already deployed by the time they get their turn.
_deploying: weakref.WeakValueDictionary[uuid.UUID, asyncio.Lock] = weakref.WeakValueDictionary()


class IngestionOps:
    def __init__(self, services: Services, principal: Principal) -> None:
        self.services = services
        self.principal = principal

    # -- checks that need the installation's settings ------------------------------------

    async def check_installation(self, spec: IngestionSpec) -> None:
        settings = self.services.settings
        queues = QueueNames.of(settings).all()
        if spec.work_queue is not None and spec.work_queue not in queues:
            raise FieldError(
                ["body", "work_queue"],
                f"unknown work queue {spec.work_queue!r}; this installation has {', '.join(queues)}",
            )
        if spec.cluster not in settings.cluster_names:
            raise FieldError(
                ["body", "cluster"],
                f"unknown cluster {spec.cluster!r}; configured: {', '.join(settings.cluster_names)}",
            )
        source = parse_source_uri(spec.source.uri)
        try:
            self.services.reach.check_source(source)
        except ReachRefused as error:
            raise FieldError(["body", "source", "uri"], str(error)) from None
        try:
            self.services.reach.check_default_credential(
                source, spec.source.credential_ref, spec.cluster
            )
        except SparkAccessRefused as error:
            raise FieldError(["body", "source", "credential_ref"], str(error)) from None
        await self.check_credential_grant(spec.source.credential_ref)
        await self.check_table_available(spec)

    async def check_table_available(self, spec: IngestionSpec) -> None:
        """Another tenant's table is refused, saying no more than that (nothing of its
        columns or rows); the store claims a free one when the ingestion is written."""
        tenant, name = self.principal.tenant_id, destination_of(spec)
        allowed = await self.services.db.read(lambda s: TableOwnership(s).allows(tenant, name))
        if not allowed:
            raise FieldError(TABLE_LOC, str(TableNotAvailable(name)))

    async def check_credential_grant(self, reference: str | None) -> None:
        if not self.services.settings.credential_grants_required:
            return
        tenant = self.principal.tenant_id
        allowed = await self.services.db.read(
            lambda s: CredentialGrants(s).allows(tenant, reference)
        )
        if not allowed:
            raise FieldError(
                ["body", "source", "credential_ref"],
                f"credential {(reference or 'default')!r} is not granted to this tenant; an "
                "admin grants it with POST /api/v1/tenants/{tenant_id}/credential-grants",
            )

    # -- reads ----------------------------------------------------------------------------

    async def get(self, ingestion_id: uuid.UUID) -> Ingestion:
        tenant = self.principal.tenant_id
        return await self.services.db.read(lambda s: IngestionStore(s).get(tenant, ingestion_id))

    async def validate(self, spec: IngestionSpec) -> Ingestion | None:
        """Checks a create body as creating it would, or, when the tenant has an ingestion of
        that name, as changing that one to it would; changes nothing. Returns that one."""
        tenant = self.principal.tenant_id
        current = await self.services.db.read(lambda s: IngestionStore(s).named(tenant, spec.name))
        await self.check_installation(spec)
        lineage = spec.destination.metadata_columns
        if current is not None and lineage != current.spec.destination.metadata_columns:
            await self._lineage_unused(current)
        return current

    # -- changes ------------------------------------------------------------------------

    async def create(self, spec: IngestionSpec) -> Ingestion:
        """Stored, then deployed; when Prefect cannot take the deployment the ingestion is
        deleted again (a deployment that did land is removed by reconciliation) and the
        caller gets 503 with nothing created."""
        await self.check_installation(spec)
        await self._prefect_answers()
        tenant, actor = self.principal.tenant_id, self.principal.actor
        limit = self.services.settings.tenant_max_ingestions

        def create(session: Session) -> Ingestion:
            quotas.check_ingestions(session, tenant, limit)
            return IngestionStore(session).create(tenant, spec, actor)

        record = await self.services.db.write(create)
        try:
            return await self.deploy(record)
        except OrchestratorUnavailable as error:
            await self.services.db.write(
                lambda s: IngestionStore(s).change(record, status=IngestionStatus.DELETED)
            )
            raise OrchestratorUnavailable(f"{error}; nothing was created") from error

    async def update(
        self, ingestion_id: uuid.UUID, patch: dict[str, Any], if_match: int | None = None
    ) -> Ingestion:
        """Applies a partial change; the whole result is validated as a create would be."""

        async def change(current: Ingestion) -> IngestionSpec:
            spec = _validated(merged(current.spec.model_dump(), patch))
            await self.check_installation(spec)
            lineage = spec.destination.metadata_columns
            if lineage != current.spec.destination.metadata_columns:
                await self._lineage_unused(current)
            return spec

        return await self._change(ingestion_id, if_match, change)

    async def _lineage_unused(self, current: Ingestion) -> None:
        """The lineage columns are the table's record of what loaded: full refresh and row
        counts find rows by them, so they change only before the first file loads."""
        loaded = await self.services.db.read(
            lambda s: FileLedger(s).counts(current.id).get(FileStatus.LOADED, 0)
        )
        if loaded:
            raise FieldError(
                ["body", "destination", "metadata_columns"],
                f"the ingestion has loaded {loaded} file(s) with its lineage columns, which "
                "full refresh and row counts rely on; they change only before the first load "
                "(create a new ingestion for another table instead)",
            )

    async def set_status(
        self, ingestion_id: uuid.UUID, status: IngestionStatus, if_match: int | None = None
    ) -> Ingestion:
        """Pause or resume: the deployment's schedule stops or starts with the row."""
        return await self._change(ingestion_id, if_match, status=status)

    async def delete(self, ingestion_id: uuid.UUID, if_match: int | None = None) -> None:
        """Marks the row deleted and removes the deployment (so every future run); the table
        and its rows stay."""
        await self._change(ingestion_id, if_match, status=IngestionStatus.DELETED)

    async def trigger(self, ingestion_id: uuid.UUID, idempotency_key: str | None) -> FlowRun:
        """A run now on the priority queue (or the ingestion's override)."""
        record = await self.get(ingestion_id)
        if record.status is IngestionStatus.PAUSED:
            raise Conflict(f"ingestion {ingestion_id} is paused; resume it to run it")
        await quotas.check_runs(self.services, self.principal.tenant_id)
        if record.deployment_id is None:  # its deployment was never written: write it now
            await self.services.ensure_work_pool()
            record = await self.deploy(record)
        async with self.services.prefect_call():
            return await self.services.orchestrator.trigger(record, idempotency_key)

    # -- the deployment -------------------------------------------------------------------

    async def deploy(self, record: Ingestion) -> Ingestion:
        """Brings Prefect's deployment to `record`'s version or a later one, and returns the
        row as it then stands. Raises OrchestratorUnavailable (503) when Prefect fails; the
        change then stays stored with its deployment pending."""
        await self.services.ensure_work_pool()
        target = record.version
        lock = _deploying.setdefault(record.id, asyncio.Lock())
        async with lock:
            for _ in range(MERGE_ATTEMPTS):
                found = await self.services.db.read(lambda s: _deploy_state(s, record.id))
                if found is None:
                    return record
                stored, backlog = found
                if stored.deployed_version is not None and stored.deployed_version >= target:
                    return stored  # another writer deployed this version or a later one
                synced = await self._mark_deployed(stored, *await self._apply(stored, backlog))
                if synced is not None:
                    return synced
                # The row moved on while Prefect was written: deploy the newer version.
        raise Conflict(
            f"ingestion {record.id} kept changing while its deployment was written; its latest "
            "change is stored and its deployment pending; try again"
        )

    async def _mark_deployed(
        self, record: Ingestion, deployment_id: uuid.UUID | None, flow_id: uuid.UUID | None
    ) -> Ingestion | None:
        return await self.services.db.write(
            lambda s: IngestionStore(s).mark_deployed(record, deployment_id, flow_id)
        )

    async def _store(
        self, current: Ingestion, spec: IngestionSpec | None, status: IngestionStatus | None
    ) -> Ingestion:
        actor = self.principal.actor
        return await self.services.db.write(
            lambda s: IngestionStore(s).change(current, spec=spec, status=status, actor=actor)
        )

    async def _apply(
        self, record: Ingestion, backlog: int
    ) -> tuple[uuid.UUID | None, uuid.UUID | None]:
        orchestrator: Orchestrator = self.services.orchestrator
        try:
            async with self.services.prefect_call():
                return await orchestrator.apply(record, backlog)
        except OrchestratorUnavailable as error:
            raise OrchestratorUnavailable(
                f"{error}; version {record.version} of ingestion {record.id} is stored and its "
                "deployment is pending: reconciliation writes it once Prefect answers"
            ) from error

    async def _prefect_answers(self) -> None:
        """Before a change is stored: Prefect answering now makes a pending deployment rare."""
        try:
            await self.services.ensure_work_pool()
            await self.services.check_prefect()
        except OrchestratorUnavailable as error:
            raise OrchestratorUnavailable(f"{error}; nothing was changed") from error

    async def _change(
        self,
        ingestion_id: uuid.UUID,
        if_match: int | None,
        make_spec: Callable[[Ingestion], Awaitable[IngestionSpec]] | None = None,
        status: IngestionStatus | None = None,
    ) -> Ingestion:
        """Reads, changes and stores under a compare-and-set, then deploys. Without If-Match,
        a lost race merges into the newer version; with it, the caller gets 412."""
        await self._prefect_answers()
        for _ in range(MERGE_ATTEMPTS):
            current = await self.get(ingestion_id)
            if if_match is not None and current.version != if_match:
                raise StaleVersion(
                    f"ingestion {ingestion_id} is at version {current.version}, not {if_match}"
                )
            spec = await make_spec(current) if make_spec is not None else None
            if spec == current.spec:
                spec = None
            if spec is None and (status is None or status is current.status):
                return await self.deploy(current)  # nothing to change: make sure it is deployed

            try:
                record = await self._store(current, spec, status)
            except StaleVersion:
                if if_match is not None:
                    raise
                continue
            return await self.deploy(record)
        raise Conflict(f"ingestion {ingestion_id} is changing too often right now; try again")


def _deploy_state(session: Session, ingestion_id: uuid.UUID) -> tuple[Ingestion, int] | None:
    record = IngestionStore(session).find(ingestion_id)
    if record is None:
        return None
    return record, Orchestrator.pending_bytes(session, ingestion_id)


def _validated(document: dict[str, Any]) -> IngestionSpec:
    try:
        return IngestionSpec.model_validate(document)
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        ) from None
