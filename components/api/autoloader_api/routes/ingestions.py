"""/api/v1/ingestions: create, read, change, pause, resume, run and delete ingestions.

Each answer carries the ingestion's version as its ETag; a change sent with `If-Match` applies
only to that version (412 otherwise), and without it merges into the latest one.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Literal

from autoloader_metadata.enums import IngestionStatus
from autoloader_metadata.errors import NotFound
from autoloader_metadata.ledger import like_escape
from autoloader_model.ingestion import Ingestion, as_stored
from autoloader_model.store import IngestionStore, one_statement, page_statement, with_file_counts
from fastapi import APIRouter, Header, Query, Response
from sqlalchemy.orm import Session

from autoloader_api.auth import Reader, Writer
from autoloader_api.errors import FieldError
from autoloader_api.ingestions import IngestionOps
from autoloader_api.routes.common import Limit, Offset, ServicesDep, errors, json_text
from autoloader_api.schemas import (
    NO_NUL,
    IngestionCheck,
    IngestionOut,
    IngestionPatch,
    IngestionSpec,
    Page,
    RunAccepted,
    ScheduleSpec,
    WorkQueueChange,
)

router = APIRouter(prefix="/api/v1/ingestions", tags=["ingestions"])
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        description="The same key returns the same run instead of starting another.",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=64,
        description='Apply only to this version (the ETag, e.g. "7"); 412 when it is not current.',
    ),
]


def expected_version(if_match: str | None) -> int | None:
    """The version an If-Match names: `"7"`, `W/"7"` or `7`; `*` (any) is None."""
    if if_match is None or if_match.strip() == "*":
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise FieldError(["header", "If-Match"], 'an ETag of this API is a version, such as "7"')
    return int(value)


def etag(record: Ingestion) -> dict[str, str]:
    return {"ETag": f'"{record.version}"'}


def answer(record: Ingestion, status_code: int = 200, location: bool = False) -> Response:
    headers = etag(record)
    if location:
        headers["Location"] = f"{router.prefix}/{record.id}"
    return json_text(record.document_json(), status_code, headers)


@router.post("", status_code=201, response_model=IngestionOut, responses=errors(409, 422, 429, 503))
async def create_ingestion(
    body: IngestionSpec, principal: Writer, services: ServicesDep
) -> Response:
    """Stores the ingestion and creates its deployment, together or not at all."""
    record = await IngestionOps(services, principal).create(body)
    return answer(record, status_code=201, location=True)


@router.post("/validate", responses=errors(422, 503))
async def validate_ingestion(
    body: IngestionSpec, principal: Writer, services: ServicesDep
) -> IngestionCheck:
    """Checks a create body as a create would, or, when the tenant has an ingestion of that
    name, as changing it to this spec would; changes nothing. Answers the spec with every
    default filled in, which a client compares with the ingestion's to plan a change."""
    current = await IngestionOps(services, principal).validate(body)
    return IngestionCheck(
        id=current.id if current else None,
        action="create" if current is None else "change",
        spec=as_stored(body),
    )


@router.get("", response_model=Page[IngestionOut], responses=errors(422, 503))
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
    tenant = principal.tenant_id
    wanted = IngestionStatus(status) if status else None
    pattern = f"%{like_escape(name)}%" if name else None
    rows = await services.db.fetch(page_statement(tenant, limit, offset, wanted, pattern))
    if not rows and offset > 0:  # past the last page: no row brought the count
        rows_of_first = await services.db.fetch(page_statement(tenant, 1, 0, wanted, pattern))
        count = rows_of_first[0]["total"] if rows_of_first else 0
    else:
        count = rows[0]["total"] if rows else 0
    cleared = [row["id"] for row in rows if row["document"] is None]
    rendered = (
        await services.db.read(lambda s: IngestionStore(s).render_cleared(cleared))
        if cleared
        else {}
    )
    documents = [row["document"] or rendered[row["id"]] for row in rows]
    pagination = json.dumps({"limit": limit, "offset": offset, "total": count})
    return json_text(f'{{"items":[{",".join(documents)}],"pagination":{pagination}}}')


@router.get("/{ingestion_id}", response_model=IngestionOut, responses=errors(503))
async def get_ingestion(
    ingestion_id: uuid.UUID, principal: Reader, services: ServicesDep
) -> Response:
    """The ingestion with its files counted by status."""
    tenant = principal.tenant_id
    rows = await services.db.fetch(one_statement(tenant, ingestion_id))
    if not rows:
        raise NotFound(f"ingestion {ingestion_id} does not exist")
    [row] = rows
    document = with_file_counts(row["document"], row["file_counts"]) if row["document"] else None
    if document is None:  # cleared by a change made with plain SQL: rendered from the row

        def render(session: Session) -> str:
            store = IngestionStore(session)
            record = store.get(tenant, ingestion_id)
            return record.document_json(store.file_counts(ingestion_id))

        document = await services.db.read(render)
    return json_text(document, headers={"ETag": f'"{row["version"]}"'})


@router.patch("/{ingestion_id}", response_model=IngestionOut, responses=errors(409, 412, 422, 503))
async def update_ingestion(
    ingestion_id: uuid.UUID,
    body: IngestionPatch,
    principal: Writer,
    services: ServicesDep,
    if_match: IfMatch = None,
) -> Response:
    """Changes only the fields given; the deployment follows once the change is stored."""
    patch = body.model_dump(exclude_unset=True)
    ops = IngestionOps(services, principal)
    return answer(await ops.update(ingestion_id, patch, expected_version(if_match)))


@router.patch(
    "/{ingestion_id}/schedule", response_model=IngestionOut, responses=errors(409, 412, 422, 503)
)
async def change_schedule(
    ingestion_id: uuid.UUID,
    body: ScheduleSpec,
    principal: Writer,
    services: ServicesDep,
    if_match: IfMatch = None,
) -> Response:
    patch = {"schedule": body.model_dump()}
    ops = IngestionOps(services, principal)
    return answer(await ops.update(ingestion_id, patch, expected_version(if_match)))


@router.patch(
    "/{ingestion_id}/work-queue",
    response_model=IngestionOut,
    responses=errors(409, 412, 422, 503),
)
async def change_work_queue(
    ingestion_id: uuid.UUID,
    body: WorkQueueChange,
    principal: Writer,
    services: ServicesDep,
    if_match: IfMatch = None,
) -> Response:
    patch = {"work_queue": body.work_queue}
    ops = IngestionOps(services, principal)
    return answer(await ops.update(ingestion_id, patch, expected_version(if_match)))


@router.post("/{ingestion_id}/pause", response_model=IngestionOut, responses=errors(409, 412, 503))
async def pause_ingestion(
    ingestion_id: uuid.UUID, principal: Writer, services: ServicesDep, if_match: IfMatch = None
) -> Response:
    """Stops scheduled runs (those already scheduled ahead are removed)."""
    ops = IngestionOps(services, principal)
    version = expected_version(if_match)
    return answer(await ops.set_status(ingestion_id, IngestionStatus.PAUSED, version))


@router.post("/{ingestion_id}/resume", response_model=IngestionOut, responses=errors(409, 412, 503))
async def resume_ingestion(
    ingestion_id: uuid.UUID, principal: Writer, services: ServicesDep, if_match: IfMatch = None
) -> Response:
    ops = IngestionOps(services, principal)
    version = expected_version(if_match)
    return answer(await ops.set_status(ingestion_id, IngestionStatus.ACTIVE, version))


@router.delete("/{ingestion_id}", status_code=204, responses=errors(409, 412, 503))
async def delete_ingestion(
    ingestion_id: uuid.UUID, principal: Writer, services: ServicesDep, if_match: IfMatch = None
) -> Response:
    """Removes the deployment and so every future run; the table and its rows stay."""
    await IngestionOps(services, principal).delete(ingestion_id, expected_version(if_match))
    return Response(status_code=204)


@router.post("/{ingestion_id}/run", status_code=202, responses=errors(409, 429, 503))
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
