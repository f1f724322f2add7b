"""An ingestion's files: list them, reprocess some, or refresh the whole ingestion."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from autoloader_metadata.enums import FileStatus, IngestionStatus
from autoloader_metadata.errors import Conflict
from autoloader_metadata.failures import ErrorCategory
from autoloader_metadata.ledger import FileLedger, glob_to_like
from autoloader_metadata.models import LedgerFile
from autoloader_metadata.refresh import Refreshes
from autoloader_model.ingestion import Ingestion
from autoloader_model.store import IngestionStore
from fastapi import APIRouter, Query
from pydantic import AwareDatetime
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from autoloader_api.auth import Reader, Writer
from autoloader_api.errors import FieldError
from autoloader_api.ingestions import IngestionOps
from autoloader_api.routes.common import Limit, Offset, ServicesDep, errors
from autoloader_api.schemas import (
    NO_NUL,
    FileOut,
    Page,
    Pagination,
    RefreshOut,
    RefreshRequestBody,
    ReprocessOut,
    ReprocessRequest,
)

router = APIRouter(prefix="/api/v1/ingestions/{ingestion_id}", tags=["files"])


@router.get("/files", responses=errors(422))
async def list_files(
    ingestion_id: uuid.UUID,
    principal: Reader,
    services: ServicesDep,
    limit: Limit = 50,
    offset: Offset = 0,
    status: Annotated[list[FileStatus] | None, Query(description="Only these statuses.")] = None,
    path: Annotated[
        str | None, Query(max_length=1024, pattern=NO_NUL, description="Glob on the path.")
    ] = None,
    modified_after: Annotated[AwareDatetime | None, Query()] = None,
    modified_before: Annotated[AwareDatetime | None, Query()] = None,
    category: Annotated[
        list[ErrorCategory] | None, Query(description="Only files that last failed so.")
    ] = None,
) -> Page[FileOut]:
    """Oldest first, as they load."""
    conditions = [LedgerFile.ingestion_id == ingestion_id]
    if status:
        conditions.append(LedgerFile.status.in_(status))
    if category:
        conditions.append(LedgerFile.error_category.in_([c.value for c in category]))
    if path:
        conditions.append(LedgerFile.path.like(glob_to_like(path), escape="\\"))
    if modified_after:
        conditions.append(LedgerFile.modified_at >= modified_after)
    if modified_before:
        conditions.append(LedgerFile.modified_at < modified_before)
    tenant = principal.tenant_id

    def read(session: Session) -> tuple[list[FileOut], int]:
        IngestionStore(session).get(tenant, ingestion_id)
        total = session.scalar(select(func.count()).select_from(LedgerFile).where(*conditions))
        rows = session.scalars(
            select(LedgerFile)
            .where(*conditions)
            .order_by(LedgerFile.modified_at, LedgerFile.id)
            .limit(limit)
            .offset(offset)
        ).all()
        return [FileOut.model_validate(row, from_attributes=True) for row in rows], total or 0

    items, total = await services.db.read(read)
    return Page(items=items, pagination=Pagination(limit=limit, offset=offset, total=total))


@router.post("/files/reprocess", responses=errors(422))
async def reprocess_files(
    ingestion_id: uuid.UUID, body: ReprocessRequest, principal: Writer, services: ServicesDep
) -> ReprocessOut:
    """Sends the chosen files back to discovery with their attempts reset; the next run loads
    them. Files in a running batch are never touched."""
    tenant = principal.tenant_id

    def reprocess(session: Session) -> int:
        IngestionStore(session).get(tenant, ingestion_id)
        return FileLedger(session).reprocess(
            ingestion_id,
            statuses=[FileStatus(s) for s in body.statuses],
            path_glob=body.path,
            modified_after=body.modified_after,
            modified_before=body.modified_before,
            file_ids=body.file_ids,
            dry_run=body.dry_run,
        )

    return ReprocessOut(files=await services.db.write(reprocess), dry_run=body.dry_run)


def _confirmed(body: RefreshRequestBody) -> None:
    if not body.dry_run and not body.confirm:
        raise FieldError(
            ["body", "confirm"],
            "a refresh changes what is loaded: set confirm to true (or dry_run)",
        )


@router.post("/refresh/full", responses=errors(409, 422, 503))
async def full_refresh(
    ingestion_id: uuid.UUID, body: RefreshRequestBody, principal: Writer, services: ServicesDep
) -> RefreshOut:
    """Deletes the rows this ingestion loaded and loads every file again. The ingestion's next
    run does it (one is started now, on the priority queue); `dry_run` only counts."""
    _confirmed(body)
    ops = IngestionOps(services, principal)
    record = await ops.get(ingestion_id)
    if record.spec.destination.metadata_columns.batch_id is None:
        raise Conflict(
            f"ingestion {ingestion_id} writes no batch column (destination.metadata_columns."
            "batch_id is null), and a full refresh deletes the rows it loaded by their batch"
        )
    plan, cleaned = await services.db.read(
        lambda s: (Refreshes(s).full_plan(ingestion_id), FileLedger(s).cleaned_count(ingestion_id))
    )
    if cleaned:
        raise Conflict(
            f"ingestion {ingestion_id}: source cleanup (source.after_load) removed {cleaned} "
            "loaded files, which a full refresh could not load again; reprocess the files "
            "still in the source instead"
        )
    out = RefreshOut(
        mode="full",
        dry_run=body.dry_run,
        files=plan.files,
        rows=plan.rows,
        claimed_files=plan.claimed_files,
    )
    if body.dry_run:
        return out
    if record.status is IngestionStatus.PAUSED:
        raise Conflict(f"ingestion {ingestion_id} is paused; resume it to refresh it")
    actor = principal.actor
    request, created = await services.db.write(
        lambda s: Refreshes(s).request_full(ingestion_id, actor)
    )
    try:
        run = await ops.trigger(record.id, f"full-refresh-{request.id}")
    except Exception:
        # No run was started for it: a request this call made is withdrawn, so that a later
        # scheduled run does not refresh by surprise.
        if created:
            await services.db.write(lambda s: Refreshes(s).withdraw(request.id))
        raise
    out.run_id = run.id
    return out


@router.post("/refresh/new-only", responses=errors(409, 422, 503))
async def new_only_refresh(
    ingestion_id: uuid.UUID, body: RefreshRequestBody, principal: Writer, services: ServicesDep
) -> RefreshOut:
    """From now on only files that arrive later load: the files waiting are skipped, and files
    modified before now are never picked up (the source's start date becomes now)."""
    _confirmed(body)
    ops = IngestionOps(services, principal)
    record = await ops.get(ingestion_id)
    plan = await services.db.read(lambda s: Refreshes(s).new_only_plan(ingestion_id))
    files = plan.files
    if not body.dry_run:
        now = datetime.now(UTC)
        actor = principal.actor
        source = record.spec.source.model_copy(update={"start_date": now})
        spec = record.spec.model_copy(update={"source": source})

        def skip_waiting(session: Session) -> tuple[int, Ingestion]:
            changed = IngestionStore(session).change(record, spec=spec, actor=actor)
            return Refreshes(session).new_only(ingestion_id), changed

        files, changed = await services.db.write(skip_waiting)
        await ops.deploy(changed)
    return RefreshOut(
        mode="new_only", dry_run=body.dry_run, files=files, rows=0, claimed_files=plan.claimed_files
    )
