"""Changing an ingestion and its Prefect deployment as one unit of work: the row is written
and flushed, the deployment written, then the transaction commits. Prefect being down rolls
the row back (503); a commit that fails after the deployment was created removes it again."""

from __future__ import annotations

import uuid
from typing import Any

from autoloader_metadata.enums import IngestionStatus
from autoloader_metadata.errors import Conflict, NotFound
from autoloader_metadata.models import Ingestion
from autoloader_metadata.repositories import CredentialGrants, IngestionRepository
from autoloader_orchestration.queues import QueueNames
from fastapi.exceptions import RequestValidationError
from prefect.client.schemas.objects import FlowRun
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from autoloader_api.auth import Principal
from autoloader_api.errors import FieldError, prefect_guard
from autoloader_api.mapping import columns_of, merged, spec_of
from autoloader_api.schemas import IngestionCreate
from autoloader_api.services import Services
from autoloader_storage.errors import ReachRefused
from autoloader_storage.uri import parse_source_uri


class IngestionOps:
    def __init__(self, services: Services, principal: Principal) -> None:
        self.services = services
        self.principal = principal

    # -- checks that need the installation's settings ------------------------------------

    def check_installation(self, spec: IngestionCreate) -> None:
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
        try:
            self.services.reach.check_source(parse_source_uri(spec.source.uri))
        except ReachRefused as error:
            raise FieldError(["body", "source", "uri"], str(error)) from None
        self.check_credential_grant(spec.source.credential_ref)

    def check_credential_grant(self, reference: str | None) -> None:
        if not self.services.settings.credential_grants_required:
            return
        with self.services.reads() as session:
            allowed = CredentialGrants(session).allows(self.principal.tenant_id, reference)
        if not allowed:
            raise FieldError(
                ["body", "source", "credential_ref"],
                f"credential {(reference or 'default')!r} is not granted to this tenant; an "
                "admin grants it with POST /api/v1/tenants/{tenant_id}/credential-grants",
            )

    # -- changes ------------------------------------------------------------------------

    async def create(self, spec: IngestionCreate) -> Ingestion:
        self.check_installation(spec)
        await self.services.ensure_work_pool()
        deployed: uuid.UUID | None = None
        try:
            with self.services.sessions.begin() as session:
                row = IngestionRepository(session).create(
                    self.principal.tenant_id,
                    spec.name,
                    **{k: v for k, v in columns_of(spec).items() if k != "name"},
                    status=IngestionStatus.PAUSED if spec.paused else IngestionStatus.ACTIVE,
                    created_by=self.principal.actor,
                    updated_by=self.principal.actor,
                )
                deployed = await self._deploy(session, row)
        except BaseException:
            if deployed is not None:
                await self._remove_deployment(deployed)
            raise
        return row

    async def update(self, ingestion_id: uuid.UUID, patch: dict[str, Any]) -> Ingestion:
        """Applies a partial change; the whole result is validated as a create would be."""
        await self.services.ensure_work_pool()
        with self.services.sessions.begin() as session:
            row = self._locked(session, ingestion_id)
            spec = _validated(merged(spec_of(row), patch))
            self.check_installation(spec)
            for column, value in columns_of(spec).items():
                setattr(row, column, value)
            row.updated_by = self.principal.actor
            _flush(session, f"an ingestion named {spec.name!r} already exists")
            await self._deploy(session, row)
        return row

    async def set_status(self, ingestion_id: uuid.UUID, status: IngestionStatus) -> Ingestion:
        """Pause or resume: the deployment's schedule stops or starts with the row."""
        await self.services.ensure_work_pool()
        with self.services.sessions.begin() as session:
            row = self._locked(session, ingestion_id)
            if row.status is not status:
                row.status = status
                row.updated_by = self.principal.actor
                session.flush()
                await self._deploy(session, row)
        return row

    async def delete(self, ingestion_id: uuid.UUID) -> None:
        """Removes the deployment (so every future run) and marks the row deleted; the table
        and its rows stay."""
        with self.services.sessions.begin() as session:
            row = self._locked(session, ingestion_id)
            row.status = IngestionStatus.DELETED
            row.updated_by = self.principal.actor
            session.flush()
            if row.prefect_deployment_id is not None:
                async with prefect_guard():
                    await self.services.orchestrator.deployments.delete(row.prefect_deployment_id)

    async def trigger(self, ingestion_id: uuid.UUID, idempotency_key: str | None) -> FlowRun:
        """A run now on the priority queue (or the ingestion's override)."""
        with self.services.reads() as session:
            row = IngestionRepository(session).get(self.principal.tenant_id, ingestion_id)
        if row.status is IngestionStatus.PAUSED:
            raise Conflict(f"ingestion {ingestion_id} is paused; resume it to run it")
        if row.prefect_deployment_id is None:  # its deployment was never written: write it now
            await self.services.ensure_work_pool()
            with self.services.sessions.begin() as session:
                row = self._locked(session, ingestion_id)
                await self._deploy(session, row)
        async with prefect_guard():
            return await self.services.orchestrator.trigger(row, idempotency_key)

    # -- helpers ------------------------------------------------------------------------

    def _locked(self, session: Session, ingestion_id: uuid.UUID) -> Ingestion:
        row = IngestionRepository(session).get(self.principal.tenant_id, ingestion_id)
        session.refresh(row, with_for_update=True)  # one change at a time per ingestion
        if row.status is IngestionStatus.DELETED:  # deleted while we waited for the lock
            raise NotFound(f"ingestion {ingestion_id} does not exist")
        return row

    async def _deploy(self, session: Session, row: Ingestion) -> uuid.UUID:
        orchestrator = self.services.orchestrator
        async with prefect_guard():
            return await orchestrator.write_deployment(row, orchestrator.spec_in(session, row))

    async def _remove_deployment(self, deployment_id: uuid.UUID) -> None:
        """Best effort; a deployment left behind is deleted by reconciliation."""
        try:
            async with prefect_guard():
                await self.services.orchestrator.deployments.delete(deployment_id)
        except Exception:  # reconciliation is the backstop
            pass


def _validated(document: dict[str, Any]) -> IngestionCreate:
    try:
        return IngestionCreate.model_validate(document)
    except ValidationError as error:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in error.errors(include_url=False)]
        ) from None


def _flush(session: Session, conflict: str) -> None:
    try:
        session.flush()
    except IntegrityError as error:
        if getattr(error.orig, "sqlstate", None) == "23505":
            raise Conflict(conflict) from error
        raise
