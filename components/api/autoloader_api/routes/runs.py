"""Runs: an ingestion's runs, one run with its outcome and logs, retry and cancel."""

from __future__ import annotations

import uuid
from typing import Annotated

from autoloader_metadata.enums import IngestionStatus
from autoloader_metadata.errors import Conflict
from autoloader_orchestration.runs import Runs
from fastapi import APIRouter, Query
from prefect.client.schemas.filters import (
    DeploymentFilter,
    DeploymentFilterId,
    FlowRunFilter,
    FlowRunFilterState,
    FlowRunFilterStateType,
)
from prefect.client.schemas.objects import StateType

from autoloader_api import quotas
from autoloader_api.auth import Reader, Writer
from autoloader_api.ingestions import IngestionOps
from autoloader_api.routes.common import Limit, Offset, ServicesDep, errors
from autoloader_api.runs import loaded_by_runs, read_owned_run, run_out, summary_of
from autoloader_api.schemas import LogOut, Page, Pagination, RunAccepted, RunOut
from autoloader_core.scrub import scrub

router = APIRouter(prefix="/api/v1", tags=["runs"])
StateFilter = Annotated[list[StateType] | None, Query(description="Only runs in these states.")]


@router.get("/ingestions/{ingestion_id}/runs", responses=errors(422, 503))
async def list_runs(
    ingestion_id: uuid.UUID,
    principal: Reader,
    services: ServicesDep,
    limit: Limit = 50,
    offset: Offset = 0,
    state: StateFilter = None,
) -> Page[RunOut]:
    """Newest first; runs scheduled ahead come first unless `state` leaves them out."""
    record = await IngestionOps(services, principal).get(ingestion_id)
    if record.deployment_id is None:
        return Page(items=[], pagination=Pagination(limit=limit, offset=offset, total=0))
    async with services.prefect_call():
        runs = await Runs(services.prefect).of_deployment(
            record.deployment_id, limit=limit, offset=offset, states=state
        )
        total = await services.prefect.count_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=state))
            )
            if state
            else None,
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[record.deployment_id])),
        )
    run_ids = [run.id for run in runs]
    loaded = await services.db.read(lambda s: loaded_by_runs(s, run_ids))
    ui = services.settings.prefect_ui_url
    items = [run_out(run, ingestion_id, loaded.get(run.id), prefect_ui_url=ui) for run in runs]
    return Page(items=items, pagination=Pagination(limit=limit, offset=offset, total=total))


@router.get("/runs/{run_id}", responses=errors(503))
async def get_run(run_id: uuid.UUID, principal: Reader, services: ServicesDep) -> RunOut:
    """State, timings, files, rows and bytes; for a finished run, its failures too."""
    run, ingestion = await read_owned_run(services, principal.tenant_id, run_id)
    loaded = await services.db.read(lambda s: loaded_by_runs(s, [run.id]).get(run.id))
    summary = await summary_of(services, run.id) if run.state and run.state.is_final() else None
    return run_out(run, ingestion.id, loaded, summary, services.settings.prefect_ui_url)


@router.get("/runs/{run_id}/logs", responses=errors(422, 503))
async def get_run_logs(
    run_id: uuid.UUID,
    principal: Reader,
    services: ServicesDep,
    limit: Limit = 200,
    offset: Offset = 0,
) -> Page[LogOut]:
    await read_owned_run(services, principal.tenant_id, run_id)
    async with services.prefect_call():
        lines = await Runs(services.prefect).logs(run_id, limit=limit, offset=offset)
    items = [
        LogOut(timestamp=line.timestamp, level=line.level, message=scrub(line.message))
        for line in lines
    ]
    return Page(items=items, pagination=Pagination(limit=limit, offset=offset, total=None))


@router.post("/runs/{run_id}/retry", status_code=202, responses=errors(409, 429, 503))
async def retry_run(run_id: uuid.UUID, principal: Writer, services: ServicesDep) -> RunAccepted:
    """A new run of the same ingestion, on the priority queue: it loads what the old one did
    not. Retrying the same run twice is one retry; a paused ingestion is not run."""
    _, ingestion = await read_owned_run(services, principal.tenant_id, run_id)
    if ingestion.status is IngestionStatus.PAUSED:
        raise Conflict(f"ingestion {ingestion.id} is paused; resume it to retry its runs")
    await quotas.check_runs(services, principal.tenant_id)
    async with services.prefect_call():
        run = await services.orchestrator.retry(run_id, ingestion.spec.work_queue)
    return RunAccepted(
        run_id=run.id,
        state=run.state_type.value if run.state_type else "SCHEDULED",
        work_queue=run.work_queue_name,
    )


@router.post("/runs/{run_id}/cancel", responses=errors(503))
async def cancel_run(run_id: uuid.UUID, principal: Writer, services: ServicesDep) -> RunOut:
    """A run not yet started is cancelled at once; a running one is asked to stop."""
    _, ingestion = await read_owned_run(services, principal.tenant_id, run_id)
    async with services.prefect_call():
        run = await Runs(services.prefect).cancel(run_id)
    loaded = await services.db.read(lambda s: loaded_by_runs(s, [run.id]).get(run.id))
    return run_out(run, ingestion.id, loaded, prefect_ui_url=services.settings.prefect_ui_url)
