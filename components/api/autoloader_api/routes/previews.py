"""Previews: what an ingestion (saved or not) would load from a sample of its files. They run
as flow runs on the priority queue; a request waits for the result up to a limit, and past it
answers 202 with the run to poll."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from autoloader_metadata.errors import NotFound
from autoloader_orchestration.names import tenant_tag
from autoloader_orchestration.runs import RunNotFound, Runs
from fastapi import APIRouter, Response
from prefect.client.schemas.objects import FlowRun

from autoloader_api import quotas
from autoloader_api.auth import Principal, Reader, Writer
from autoloader_api.ingestions import IngestionOps
from autoloader_api.routes.common import ServicesDep, errors
from autoloader_api.schemas import (
    IngestionSpec,
    PreviewColumn,
    PreviewOptions,
    PreviewOut,
    PreviewSpec,
)
from autoloader_api.services import Services

router = APIRouter(prefix="/api/v1", tags=["previews"])


@router.post("/ingestions/preview", responses=errors(422, 429, 503), status_code=200)
async def preview_spec(
    body: PreviewSpec, principal: Writer, services: ServicesDep, response: Response
) -> PreviewOut:
    """Previews an ingestion that is not saved: schema, schema diff against the table, sample
    rows, matching file count. Nothing is written."""
    spec = IngestionSpec(
        name="preview",
        source=body.source,
        format=body.format,
        destination=body.destination,
        cluster=body.cluster,
    )
    await IngestionOps(services, principal).check_installation(spec)
    return await _start(services, principal, response, body.max_files, body.limit, spec=spec)


@router.post("/ingestions/{ingestion_id}/preview", responses=errors(422, 429, 503))
async def preview_ingestion(
    ingestion_id: uuid.UUID,
    body: PreviewOptions,
    principal: Writer,
    services: ServicesDep,
    response: Response,
) -> PreviewOut:
    await IngestionOps(services, principal).get(ingestion_id)
    return await _start(
        services, principal, response, body.max_files, body.limit, ingestion_id=ingestion_id
    )


@router.get("/previews/{run_id}", responses=errors(422, 503))
async def get_preview(
    run_id: uuid.UUID, principal: Reader, services: ServicesDep, response: Response
) -> PreviewOut:
    """The result of a preview that answered 202, once it is done."""
    async with services.prefect_call():
        try:
            run = await Runs(services.prefect).read(run_id)
        except RunNotFound:
            raise NotFound(f"preview {run_id} does not exist") from None
    _owned(run, principal, run_id)
    return await _answer(services, run, response, wait=0)


async def _start(
    services: Services,
    principal: Principal,
    response: Response,
    max_files: int,
    limit: int,
    ingestion_id: uuid.UUID | None = None,
    spec: IngestionSpec | None = None,
) -> PreviewOut:
    """Starts the preview run (tagged with the tenant) and answers with its result or 202."""
    await quotas.check_previews(services, principal.tenant_id)
    await services.ensure_work_pool()
    async with services.prefect_call():
        run = await services.previews.start(
            ingestion_id=ingestion_id,
            spec=spec,
            max_files=max_files,
            limit=limit,
            tags=[tenant_tag(principal.tenant_id)],
            tenant_id=principal.tenant_id,
        )
    return await _answer(services, run, response)


def _owned(run: FlowRun, principal: Principal, run_id: uuid.UUID) -> None:
    if tenant_tag(principal.tenant_id) not in run.tags or "trigger:preview" not in run.tags:
        raise NotFound(f"preview {run_id} does not exist")


async def _answer(
    services: Services, run: FlowRun, response: Response, wait: float | None = None
) -> PreviewOut:
    settings = services.settings
    # Answered (202 with the run to poll) well before the request's own deadline.
    limit = min(settings.preview_wait_seconds, settings.api_request_deadline_seconds * 0.8)
    deadline = time.monotonic() + (limit if wait is None else wait)
    while True:
        async with services.prefect_call():
            result = await services.previews.result(run.id)
        if result is not None:
            return _out(run.id, result)
        if time.monotonic() >= deadline:
            response.status_code = 202
            return PreviewOut(run_id=run.id, status="running")
        await asyncio.sleep(0.25)


def _out(run_id: uuid.UUID, result: dict[str, Any]) -> PreviewOut:
    return PreviewOut(
        run_id=run_id,
        status="completed",
        columns=[PreviewColumn(**c) for c in result.get("columns", [])],
        table_exists=result.get("table_exists"),
        schema_diff=result.get("schema_diff"),
        rows=result.get("rows"),
        matching_files=result.get("matching_files"),
        sampled_files=result.get("sampled_files"),
        seconds=result.get("seconds"),
        warnings=result.get("warnings", []),
    )
