"""Keeping an ingestion's deployment in step with its row in the metadata store."""

from __future__ import annotations

import uuid

from autoloader_metadata.enums import IngestionStatus
from autoloader_metadata.ledger import FileLedger
from autoloader_model.ingestion import Ingestion
from autoloader_orchestration.deployments import Deployments, DeploymentSpec
from autoloader_orchestration.names import deployment_name
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
            override=ingestion.spec.work_queue,
        )
        return DeploymentSpec.of(
            ingestion, self.settings.work_pool, queue, console_url=self.settings.console_url
        )

    @staticmethod
    def pending_bytes(session: Session, ingestion_id: uuid.UUID) -> int:
        """The backlog a deployment is routed by (read before, never during, a Prefect call)."""
        return FileLedger(session).pending_bytes(ingestion_id)

    async def apply(
        self, ingestion: Ingestion, pending_bytes: int = 0
    ) -> tuple[uuid.UUID | None, uuid.UUID | None]:
        """Makes Prefect's deployment what `ingestion` says: written for a live one, removed
        for a deleted one. Returns the deployment's and its flow's ids (None when removed).
        Idempotent: applying the same version twice changes nothing more."""
        if ingestion.status is IngestionStatus.DELETED:
            if ingestion.deployment_id is not None:
                await self.deployments.delete(ingestion.deployment_id)
            else:  # a create whose answer was lost may have left one behind under its name
                await self.deployments.delete_named(deployment_name(ingestion.id))
            return None, None
        deployment_id = await self.deployments.upsert(self.spec(ingestion, pending_bytes))
        return deployment_id, await self.deployments.flow_id()

    async def trigger(
        self,
        ingestion: Ingestion,
        idempotency_key: str | None = None,
        kind: RunKind = RunKind.MANUAL,
    ) -> FlowRun:
        if ingestion.deployment_id is None:
            raise LookupError(f"ingestion {ingestion.id} has no deployment yet")
        queue = choose_queue(kind, self.queues, override=ingestion.spec.work_queue)
        return await Runs(self.client).trigger(
            ingestion.deployment_id, queue, kind, idempotency_key
        )

    async def retry(self, run_id: uuid.UUID, override: str | None = None) -> FlowRun:
        queue = choose_queue(RunKind.RETRY, self.queues, override=override)
        return await Runs(self.client).retry(run_id, queue)
