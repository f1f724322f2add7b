"""Previews as flow runs on the priority queue: one shared deployment, the result read back
from the run's artifact."""

from __future__ import annotations

import json
import uuid
from typing import Any

from autoloader_model.spec import IngestionSpec
from autoloader_orchestration.names import (
    PREVIEW_ARTIFACT_TYPE,
    PREVIEW_DEPLOYMENT,
    PREVIEW_ENTRYPOINT,
    PREVIEW_FLOW,
)
from autoloader_orchestration.runs import TERMINAL
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterType,
)
from prefect.client.schemas.objects import FlowRun, StateType

from autoloader_core.scrub import scrub
from autoloader_core.settings import Settings


class PreviewFailed(RuntimeError):
    pass


class Previews:
    def __init__(self, client: PrefectClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self._deployment_id: uuid.UUID | None = None

    async def deployment_id(self) -> uuid.UUID:
        """The preview deployment, written once per process (an upsert: safe to repeat)."""
        if self._deployment_id is None:
            flow_id = await self.client.create_flow_from_name(PREVIEW_FLOW)
            self._deployment_id = await self.client.create_deployment(
                flow_id=flow_id,
                name=PREVIEW_DEPLOYMENT,
                description="Autoloader previews, for every ingestion",
                entrypoint=PREVIEW_ENTRYPOINT,
                work_pool_name=self.settings.work_pool,
                work_queue_name=self.settings.priority_queue,
                enforce_parameter_schema=False,
            )
        return self._deployment_id

    async def start(
        self,
        ingestion_id: uuid.UUID | None = None,
        spec: IngestionSpec | None = None,
        max_files: int = 10,
        limit: int = 20,
        tags: list[str] | None = None,
        tenant_id: uuid.UUID | None = None,
    ) -> FlowRun:
        """A preview run of a saved ingestion or of an unsaved spec (which holds a credential
        reference, never a secret)."""
        parameters: dict[str, Any] = {"max_files": max_files, "limit": limit}
        if ingestion_id is not None:
            parameters["ingestion_id"] = str(ingestion_id)
        elif spec is not None:
            parameters["spec"] = spec.model_dump(mode="json")  # the flow validates it again
            parameters["tenant_id"] = str(tenant_id)  # and checks this tenant's grants, table
        return await self.client.create_flow_run_from_deployment(
            await self.deployment_id(),
            parameters=parameters,
            work_queue_name=self.settings.priority_queue,
            tags=["trigger:preview", *(tags or [])],
        )

    async def result(self, run_id: uuid.UUID) -> dict[str, Any] | None:
        """The preview of a finished run; None while it runs; PreviewFailed with its reason."""
        run = await self.client.read_flow_run(run_id)
        if run.state_type not in TERMINAL:
            return None
        if run.state_type is not StateType.COMPLETED:
            reason = scrub(run.state.message or "") if run.state else "no reason given"
            raise PreviewFailed(f"the preview ended {run.state_name}: {reason}")
        artifacts = await self.client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]),
                type=ArtifactFilterType(any_=[PREVIEW_ARTIFACT_TYPE]),
            ),
            limit=1,
        )
        if not artifacts:
            raise PreviewFailed(f"the preview run {run_id} left no result")
        data = artifacts[0].data
        return json.loads(data) if isinstance(data, str) else dict(data or {})
