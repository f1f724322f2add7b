"""Keeping an ingestion's deployment in step with its row in the metadata store."""

from __future__ import annotations

import uuid

from autoloader_metadata.ledger import FileLedger
from autoloader_metadata.models import Ingestion
from autoloader_orchestration.deployments import Deployments, DeploymentSpec
from autoloader_orchestration.queues import QueueNames, RunKind, choose_queue
from autoloader_orchestration.runs import Runs
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.objects import FlowRun
from sqlalchemy.orm import Session

from autoloader_core.settings import Settings


class Orchestrator:
    """The operations the api, migrate and flows perform on an ingestion's orchestration."""

    def __init__(self, client: PrefectClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.deployments = Deployments(client)  # remembers the flow's id across writes

    @property
    def queues(self) -> QueueNames:
        return QueueNames.of(self.settings)

    def spec(self, ingestion: Ingestion, pending_bytes: int = 0) -> DeploymentSpec:
        queue = choose_queue(
            RunKind.SCHEDULED,
            self.queues,
            pending_bytes=pending_bytes,
            high_memory_threshold=self.settings.high_memory_threshold_bytes,
            override=ingestion.work_queue_override,
        )
        return DeploymentSpec.of(ingestion, self.settings.work_pool, queue)

    def spec_in(self, session: Session, ingestion: Ingestion) -> DeploymentSpec:
        """The spec, routed by the ingestion's current backlog in the ledger."""
        return self.spec(ingestion, FileLedger(session).pending_bytes(ingestion.id))

    async def write_deployment(self, ingestion: Ingestion, spec: DeploymentSpec) -> uuid.UUID:
        """Creates or updates the deployment and records its id on the ingestion (the caller
        commits the ingestion's transaction after this returns)."""
        deployment_id = await self.deployments.upsert(spec)
        ingestion.prefect_deployment_id = deployment_id
        ingestion.prefect_flow_id = await self.deployments.flow_id()
        return deployment_id

    async def trigger(
        self,
        ingestion: Ingestion,
        idempotency_key: str | None = None,
        kind: RunKind = RunKind.MANUAL,
    ) -> FlowRun:
        if ingestion.prefect_deployment_id is None:
            raise LookupError(f"ingestion {ingestion.id} has no deployment yet")
        queue = choose_queue(kind, self.queues, override=ingestion.work_queue_override)
        return await Runs(self.client).trigger(
            ingestion.prefect_deployment_id, queue, kind, idempotency_key
        )

    async def retry(self, run_id: uuid.UUID, override: str | None = None) -> FlowRun:
        queue = choose_queue(RunKind.RETRY, self.queues, override=override)
        return await Runs(self.client).retry(run_id, queue)
