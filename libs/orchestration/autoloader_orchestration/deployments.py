"""One Prefect deployment per ingestion: written from the ingestion's row, so that writing it
again is how it is repaired. Its parameters hold only the ingestion id; never a secret."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from autoloader_model.ingestion import Ingestion
from autoloader_orchestration.names import (
    INGESTION_ENTRYPOINT,
    INGESTION_FLOW,
    deployment_name,
    source_tag,
    tenant_tag,
)
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.actions import DeploymentScheduleCreate
from prefect.client.schemas.objects import ConcurrencyLimitStrategy, ConcurrencyOptions
from prefect.client.schemas.responses import DeploymentResponse
from prefect.client.schemas.schedules import CronSchedule
from prefect.exceptions import ObjectNotFound

from autoloader_storage.uri import parse_source_uri

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeploymentSpec:
    """What an ingestion's deployment must look like; compared field by field on repair."""

    name: str
    parameters: dict[str, Any]
    tags: list[str]
    work_pool: str
    work_queue: str
    cron: str | None
    timezone: str
    paused: bool
    entrypoint: str = INGESTION_ENTRYPOINT
    concurrency_limit: int = 1
    description: str = field(default="", compare=False)

    @classmethod
    def of(
        cls,
        ingestion: Ingestion,
        work_pool: str,
        work_queue: str,
        console_url: str | None = None,
    ) -> DeploymentSpec:
        return cls(
            name=deployment_name(ingestion.id),
            parameters={"ingestion_id": str(ingestion.id)},
            tags=sorted(
                [
                    tenant_tag(ingestion.tenant_id),
                    source_tag(parse_source_uri(ingestion.spec.source.uri).kind),
                ]
            ),
            work_pool=work_pool,
            work_queue=work_queue,
            cron=ingestion.spec.schedule.cron,
            timezone=ingestion.spec.schedule.timezone or "UTC",
            paused=ingestion.paused,
            description=describe(ingestion, console_url),
        )

    def differences(self, deployment: DeploymentResponse) -> list[str]:
        """The fields in which `deployment` differs from this spec (empty: it matches)."""
        found = {
            "parameters": deployment.parameters,
            "tags": sorted(deployment.tags or []),
            "work_pool": deployment.work_pool_name,
            "work_queue": deployment.work_queue_name,
            "entrypoint": deployment.entrypoint,
            "paused": bool(deployment.paused),
            "concurrency_limit": deployment.global_concurrency_limit.limit
            if deployment.global_concurrency_limit
            else None,
            "schedule": _schedule_of(deployment),
        }
        wanted = {
            "parameters": self.parameters,
            "tags": self.tags,
            "work_pool": self.work_pool,
            "work_queue": self.work_queue,
            "entrypoint": self.entrypoint,
            "paused": self.paused,
            "concurrency_limit": self.concurrency_limit,
            "schedule": (self.cron, self.timezone) if self.cron else None,
        }
        return [name for name in wanted if wanted[name] != found[name]]


def describe(ingestion: Ingestion, console_url: str | None) -> str:
    """What Prefect's deployments page shows of an ingestion (its name is only an id there):
    name, tenant, source and table, and a link to its page in the console."""
    destination = ingestion.spec.destination
    lines = [
        f"Autoloader ingestion **{ingestion.name}**",
        f"- tenant: `{ingestion.tenant_id}`",
        f"- source: `{ingestion.spec.source.uri}`",
        f"- table: `{destination.catalog}.{destination.namespace}.{destination.table}`",
    ]
    if console_url:
        lines.append(f"- console: {console_url.rstrip('/')}/#/ingestions/{ingestion.id}")
    return "\n".join(lines)


def _schedule_of(deployment: DeploymentResponse) -> tuple[str, str] | None:
    for schedule in deployment.schedules or []:
        if isinstance(schedule.schedule, CronSchedule):
            return (schedule.schedule.cron, schedule.schedule.timezone or "UTC")
    return None


class Deployments:
    """Create, update, pause, resume, delete and read ingestions' deployments."""

    def __init__(self, client: PrefectClient) -> None:
        self.client = client
        self._flow_id: uuid.UUID | None = None

    async def flow_id(self) -> uuid.UUID:
        if self._flow_id is None:
            self._flow_id = await self.client.create_flow_from_name(INGESTION_FLOW)
        return self._flow_id

    async def upsert(self, spec: DeploymentSpec) -> uuid.UUID:
        """Writes the deployment (Prefect upserts by flow and name); returns its id.

        At most one run of an ingestion at a time: later runs wait in line (ENQUEUE).
        """
        schedules = (
            [
                DeploymentScheduleCreate(
                    schedule=CronSchedule(cron=spec.cron, timezone=spec.timezone),
                    active=True,
                )
            ]
            if spec.cron
            else []
        )
        deployment_id = await self.client.create_deployment(
            flow_id=await self.flow_id(),
            name=spec.name,
            description=spec.description,
            schedules=schedules,
            concurrency_limit=spec.concurrency_limit,
            concurrency_options=ConcurrencyOptions(
                collision_strategy=ConcurrencyLimitStrategy.ENQUEUE
            ),
            parameters=spec.parameters,
            work_pool_name=spec.work_pool,
            work_queue_name=spec.work_queue,
            tags=spec.tags,
            entrypoint=spec.entrypoint,
            paused=spec.paused,
            enforce_parameter_schema=False,
        )
        if spec.cron and not spec.paused:
            await self.schedule_ahead(deployment_id)
        return deployment_id

    async def schedule_ahead(self, deployment_id: uuid.UUID) -> None:
        """Creates the deployment's next scheduled runs now, as Prefect's scheduler would.

        Prefect's scheduler picks up a new or changed deployment only in a pass a few seconds
        later that looks back just that far; under a burst of writes (an APScheduler import,
        thousands of ingestions at once) its passes run late and miss some, and its full sweep
        then schedules them from that moment on: the first due time is skipped, silently.
        Scheduling here makes the runs exist when the write returns. Prefect keys scheduled
        runs by deployment, schedule and time, so the scheduler's own passes add no duplicates.
        A failure here leaves the runs to the scheduler, as before, and does not undo the write.
        """
        try:
            await self.client.request(
                "POST", "/deployments/{id}/schedule", path_params={"id": deployment_id}, json={}
            )
        except httpx.HTTPError as error:
            log.warning(
                "deployment %s is written; its next runs are left to Prefect's scheduler "
                "(scheduling them now failed: %s)",
                deployment_id,
                error,
            )

    async def read(self, deployment_id: uuid.UUID) -> DeploymentResponse | None:
        try:
            return await self.client.read_deployment(deployment_id)
        except ObjectNotFound:
            return None

    async def pause(self, deployment_id: uuid.UUID) -> None:
        """Stops scheduled runs (Prefect removes the runs it had scheduled ahead)."""
        await self.client.pause_deployment(deployment_id)

    async def resume(self, deployment_id: uuid.UUID) -> None:
        await self.client.resume_deployment(deployment_id)
        await self.schedule_ahead(deployment_id)

    async def delete_named(self, name: str) -> bool:
        """Deletes the ingestion flow's deployment of that name, if there is one."""
        try:
            found = await self.client.read_deployment_by_name(f"{INGESTION_FLOW}/{name}")
        except ObjectNotFound:
            return False
        return await self.delete(found.id)

    async def delete(self, deployment_id: uuid.UUID) -> bool:
        """Deletes the deployment and so its future runs; False when it was already gone."""
        try:
            await self.client.delete_deployment(deployment_id)
        except ObjectNotFound:
            return False
        return True
