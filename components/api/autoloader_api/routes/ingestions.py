"""/api/v1/ingestions: create, read, change, pause, resume, run and delete ingestions."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Literal

from autoloader_metadata.enums import IngestionStatus
from autoloader_metadata.ledger import like_escape
from autoloader_metadata.models import Ingestion
from fastapi import APIRouter, Header, Query, Response

from autoloader_api.auth import Reader, Writer
from autoloader_api.documents import PageFilter, document_by_id, page_of_documents
from autoloader_api.ingestions import IngestionOps
from autoloader_api.routes.common import Limit, Offset, ServicesDep, errors, json_text
from autoloader_api.schemas import (
    NO_NUL,
    IngestionCreate,
    IngestionOut,
    IngestionPatch,
    Page,
    RunAccepted,
    ScheduleSpec,
    WorkQueueChange,
)
from autoloader_api.services import Services

router = APIRouter(prefix="/api/v1/ingestions", tags=["ingestions"])
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        description="The same key returns the same run instead of starting another.",
    ),
]


@router.post("", status_code=201, response_model=IngestionOut, responses=errors(409, 422, 503))
async def create_ingestion(
    body: IngestionCreate, principal: Writer, services: ServicesDep
) -> Response:
    """Stores the ingestion and creates its deployment, together or not at all."""
    row = await IngestionOps(services, principal).create(body)
    return await _answer(
        services, row, status_code=201, headers={"Location": f"{router.prefix}/{row.id}"}
    )


@router.get("", response_model=Page[IngestionOut], responses=errors(422))
async def list_ingestions(
    principal: Reader,
    services: ServicesDep,
    limit: Limit = 50,
    offset: Offset = 0,
    status: Annotated[
        Literal["active", "paused", "error"] | None, Query(description="Only this status.")
    ] = None,
    name: Annotated[
        str | None, Query(max_length=128, pattern=NO_NUL, description="Only names containing this.")
    ] = None,
) -> Response:
    where = PageFilter(status, f"%{like_escape(name)}%" if name else None)
    documents, count = await page_of_documents(
        services.documents, principal.tenant_id, limit, offset, where
    )
    pagination = json.dumps({"limit": limit, "offset": offset, "total": count})
    return json_text(f'{{"items":[{",".join(documents)}],"pagination":{pagination}}}')


@router.get("/{ingestion_id}", response_model=IngestionOut, responses=errors())
async def get_ingestion(
    ingestion_id: uuid.UUID, principal: Reader, services: ServicesDep
) -> Response:
    return json_text(await document_by_id(services.documents, principal.tenant_id, ingestion_id))


@router.patch("/{ingestion_id}", response_model=IngestionOut, responses=errors(409, 422, 503))
async def update_ingestion(
    ingestion_id: uuid.UUID, body: IngestionPatch, principal: Writer, services: ServicesDep
) -> Response:
    """Changes only the fields given; the deployment follows in the same unit of work."""
    patch = body.model_dump(exclude_unset=True)
    return await _answer(
        services, await IngestionOps(services, principal).update(ingestion_id, patch)
    )


@router.patch("/{ingestion_id}/schedule", response_model=IngestionOut, responses=errors(422, 503))
async def change_schedule(
    ingestion_id: uuid.UUID, body: ScheduleSpec, principal: Writer, services: ServicesDep
) -> Response:
    patch = {"schedule": body.model_dump()}
    return await _answer(
        services, await IngestionOps(services, principal).update(ingestion_id, patch)
    )


@router.patch("/{ingestion_id}/work-queue", response_model=IngestionOut, responses=errors(422, 503))
async def change_work_queue(
    ingestion_id: uuid.UUID, body: WorkQueueChange, principal: Writer, services: ServicesDep
) -> Response:
    patch = {"work_queue": body.work_queue}
    return await _answer(
        services, await IngestionOps(services, principal).update(ingestion_id, patch)
    )


@router.post("/{ingestion_id}/pause", response_model=IngestionOut, responses=errors(503))
async def pause_ingestion(
    ingestion_id: uuid.UUID, principal: Writer, services: ServicesDep
) -> Response:
    """Stops scheduled runs (those already scheduled ahead are removed)."""
    ops = IngestionOps(services, principal)
    return await _answer(services, await ops.set_status(ingestion_id, IngestionStatus.PAUSED))


@router.post("/{ingestion_id}/resume", response_model=IngestionOut, responses=errors(503))
async def resume_ingestion(
    ingestion_id: uuid.UUID, principal: Writer, services: ServicesDep
) -> Response:
    ops = IngestionOps(services, principal)
    return await _answer(services, await ops.set_status(ingestion_id, IngestionStatus.ACTIVE))


@router.delete("/{ingestion_id}", status_code=204, responses=errors(503))
async def delete_ingestion(
    ingestion_id: uuid.UUID, principal: Writer, services: ServicesDep
) -> Response:
    """Removes the deployment and so every future run; the table and its rows stay."""
    await IngestionOps(services, principal).delete(ingestion_id)
    return Response(status_code=204)


@router.post("/{ingestion_id}/run", status_code=202, responses=errors(409, 503))
async def run_ingestion(
    ingestion_id: uuid.UUID,
    principal: Writer,
    services: ServicesDep,
    idempotency_key: IdempotencyKey = None,
) -> RunAccepted:
    """Starts a run now, on the priority queue (or the ingestion's own queue)."""
    run = await IngestionOps(services, principal).trigger(ingestion_id, idempotency_key)
    return RunAccepted(
        run_id=run.id,
        state=run.state_type.value if run.state_type else "SCHEDULED",
        work_queue=run.work_queue_name,
    )


async def _answer(
    services: Services,
    row: Ingestion,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """The ingestion as it now stands, read back after its change committed."""
    document = await document_by_id(services.documents, row.tenant_id, row.id)
    return json_text(document, status_code, headers)
