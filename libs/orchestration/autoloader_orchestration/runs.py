"""Runs of an ingestion's deployment: trigger, retry, cancel, and read back with their logs."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from autoloader_orchestration.names import RUN_SUMMARY_ARTIFACT_TYPE
from autoloader_orchestration.queues import RunKind
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterType,
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterState,
    FlowRunFilterStateType,
    FlowRunFilterTags,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.client.schemas.objects import FlowRun, State, StateType
from prefect.client.schemas.sorting import FlowRunSort, LogSort
from prefect.exceptions import ObjectNotFound
from prefect.states import Cancelled, Cancelling

TERMINAL = {
    StateType.COMPLETED,
    StateType.FAILED,
    StateType.CANCELLED,
    StateType.CRASHED,
}


class RunNotFound(LookupError):
    pass


class RunNotRetryable(ValueError):
    pass


@dataclass(frozen=True)
class LogLine:
    timestamp: datetime
    level: int
    message: str


class Runs:
    def __init__(self, client: PrefectClient) -> None:
        self.client = client

    async def trigger(
        self,
        deployment_id: uuid.UUID,
        work_queue: str,
        kind: RunKind = RunKind.MANUAL,
        idempotency_key: str | None = None,
    ) -> FlowRun:
        """A run now, on `work_queue`. The same idempotency key returns the same run.

        Prefect scopes keys by flow, and every ingestion runs the same flow: the key is scoped
        to the deployment here, so two ingestions never share a run through a common key.
        """
        return await self.client.create_flow_run_from_deployment(
            deployment_id,
            work_queue_name=work_queue,
            idempotency_key=f"{deployment_id}:{idempotency_key}" if idempotency_key else None,
            tags=[f"trigger:{kind.value}"],
        )

    async def retry(
        self, run_id: uuid.UUID, work_queue: str, idempotency_key: str | None = None
    ) -> FlowRun:
        """A new run of the same deployment for a run that ended without completing.

        The ledger keeps the state of every file, so the new run picks up exactly what the old
        one did not load. The key defaults to one per retried run: retrying twice is one retry.
        """
        run = await self.read(run_id)
        if run.deployment_id is None:
            raise RunNotRetryable(f"run {run_id} has no deployment to run again")
        if run.state_type not in TERMINAL:
            raise RunNotRetryable(
                f"run {run_id} is {_state_name(run)}; only a finished run can be retried"
            )
        return await self.client.create_flow_run_from_deployment(
            run.deployment_id,
            work_queue_name=work_queue,
            idempotency_key=idempotency_key or f"retry-of-{run_id}",
            tags=[f"trigger:{RunKind.RETRY.value}", f"retry-of:{run_id}"],
        )

    async def in_flight(self, tags: list[str], started_by: list[str]) -> int:
        """Runs carrying every tag that are pending or running, and those a caller scheduled
        (one of `started_by`'s trigger tags) that have not started: a cron's runs made ahead
        of time are not in flight."""
        active = [StateType.PENDING, StateType.RUNNING, StateType.CANCELLING]
        count = await self.client.count_flow_runs(
            flow_run_filter=FlowRunFilter(
                tags=FlowRunFilterTags(all_=tags),
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=active)),
            )
        )
        for trigger in started_by:
            count += await self.client.count_flow_runs(
                flow_run_filter=FlowRunFilter(
                    tags=FlowRunFilterTags(all_=[*tags, trigger]),
                    state=FlowRunFilterState(
                        type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])
                    ),
                )
            )
        return count

    async def cancel(self, run_id: uuid.UUID) -> FlowRun:
        """A run not yet started is cancelled at once; a running one is asked to stop (its
        worker kills the process, and the next run settles its claimed files)."""
        run = await self.read(run_id)
        if run.state_type in TERMINAL:
            return run
        state: State[Any] = Cancelling() if run.state_type is StateType.RUNNING else Cancelled()
        await self.client.set_flow_run_state(run_id, state, force=True)
        return await self.read(run_id)

    async def read(self, run_id: uuid.UUID) -> FlowRun:
        try:
            return await self.client.read_flow_run(run_id)
        except ObjectNotFound as error:
            raise RunNotFound(f"run {run_id} does not exist") from error

    async def of_deployment(
        self,
        deployment_id: uuid.UUID,
        limit: int = 50,
        offset: int = 0,
        states: list[StateType] | None = None,
    ) -> list[FlowRun]:
        """The deployment's runs, newest first; those scheduled ahead come first unless `states`
        leaves them out."""
        return await self.client.read_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=states))
            )
            if states
            else None,
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
            sort=FlowRunSort.EXPECTED_START_TIME_DESC,
            limit=limit,
            offset=offset,
        )

    async def of_ids(self, run_ids: list[uuid.UUID]) -> list[FlowRun]:
        if not run_ids:
            return []
        return await self.client.read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=run_ids)),
            limit=len(run_ids),
        )

    async def summary(self, run_id: uuid.UUID) -> dict[str, Any] | None:
        """The summary a finished ingestion run published (files, rows, bytes, failures), or
        None: the run is not finished, is not an ingestion run, or could not publish it."""
        artifacts = await self.client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]),
                type=ArtifactFilterType(any_=[RUN_SUMMARY_ARTIFACT_TYPE]),
            ),
            limit=1,
        )
        if not artifacts:
            return None
        data = artifacts[0].data
        found = json.loads(data) if isinstance(data, str) else data
        return dict(found) if isinstance(found, dict) else None

    async def logs(self, run_id: uuid.UUID, limit: int = 200, offset: int = 0) -> list[LogLine]:
        logs = await self.client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])),
            limit=limit,
            offset=offset,
            sort=LogSort.TIMESTAMP_ASC,
        )
        return [LogLine(log.timestamp, log.level, log.message) for log in logs]


def _state_name(run: FlowRun) -> str:
    return (run.state.name or str(run.state.type)) if run.state else "without a state"
