"""Runs as the API shows them: Prefect's state and timings, the ledger's files, rows and bytes,
and for a finished run its summary (failures with their reasons)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from autoloader_metadata.errors import NotFound
from autoloader_metadata.failures import ErrorCategory
from autoloader_model.ingestion import Ingestion
from autoloader_model.store import IngestionStore
from autoloader_orchestration.runs import Runs
from prefect.client.schemas.objects import FlowRun
from sqlalchemy import text
from sqlalchemy.orm import Session

from autoloader_api.schemas import FileFailure, RunOut
from autoloader_api.services import Services
from autoloader_core.scrub import scrub


@dataclass(frozen=True)
class Loaded:
    files: int = 0
    rows: int = 0
    bytes: int = 0


def loaded_by_runs(session: Session, run_ids: list[uuid.UUID]) -> dict[uuid.UUID, Loaded]:
    """Files, rows and bytes each run committed, from its loaded batches."""
    if not run_ids:
        return {}
    rows = session.execute(
        text(
            """
            SELECT run, sum(files) AS files, sum(rows) AS rows, sum(bytes) AS bytes FROM (
                SELECT b.flow_run_id AS run, count(f.id) AS files,
                       coalesce(sum(f.size), 0) AS bytes,
                       -- the batch's rows, when its files' rows could not be told apart
                       CASE WHEN count(f.rows_loaded) = count(f.id)
                            THEN coalesce(sum(f.rows_loaded), 0)
                            ELSE coalesce(max(b.row_count), 0) END AS rows
                FROM batches b JOIN files f ON f.batch_id = b.id AND f.status = 'loaded'
                WHERE b.flow_run_id = ANY(CAST(:runs AS uuid[])) AND b.status = 'loaded'
                GROUP BY b.id, b.flow_run_id
            ) AS per_batch
            GROUP BY run
            """
        ),
        {"runs": run_ids},
    ).all()
    return {r.run: Loaded(int(r.files), int(r.rows), int(r.bytes)) for r in rows}


async def read_owned_run(
    services: Services, tenant_id: uuid.UUID, run_id: uuid.UUID
) -> tuple[FlowRun, Ingestion]:
    """The run and the tenant's ingestion whose deployment ran it; 404 for anyone else's."""
    async with services.prefect_call():
        run = await Runs(services.prefect).read(run_id)
    deployment = run.deployment_id
    found = None
    if deployment is not None:
        found = await services.db.read(
            lambda s: IngestionStore(s).by_deployment(tenant_id, deployment)
        )
    if found is None:
        raise NotFound(f"run {run_id} does not exist")
    return run, found


async def summary_of(services: Services, run_id: uuid.UUID) -> dict[str, Any] | None:
    async with services.prefect_call():
        return await Runs(services.prefect).summary(run_id)


def run_out(
    run: FlowRun,
    ingestion_id: uuid.UUID,
    loaded: Loaded | None,
    summary: dict[str, Any] | None = None,
    prefect_ui_url: str | None = None,
) -> RunOut:
    loaded = loaded or Loaded()
    trigger = next((t.split(":", 1)[1] for t in run.tags if t.startswith("trigger:")), None)
    if trigger is None and run.auto_scheduled:
        trigger = "scheduled"
    duration = None
    if run.start_time and run.end_time:
        duration = (run.end_time - run.start_time).total_seconds()
    elif run.total_run_time:
        duration = run.total_run_time.total_seconds()
    failures = None
    if summary is not None:
        failures = [
            FileFailure(
                path=str(f.get("path", "")),
                category=_category(f.get("category")),
                error=str(f.get("error", "")),
            )
            for f in summary.get("failures") or []
        ]
    return RunOut(
        id=run.id,
        ingestion_id=ingestion_id,
        name=run.name,
        state=run.state_type.value if run.state_type else "UNKNOWN",
        state_name=run.state_name,
        message=scrub(run.state.message or "") or None if run.state else None,
        trigger=trigger,
        work_queue=run.work_queue_name,
        expected_start_time=run.expected_start_time,
        start_time=run.start_time,
        end_time=run.end_time,
        duration_seconds=duration,
        files_loaded=int(summary.get("files_loaded", loaded.files)) if summary else loaded.files,
        rows=int(summary.get("rows", loaded.rows)) if summary else loaded.rows,
        bytes=int(summary.get("bytes", loaded.bytes)) if summary else loaded.bytes,
        files_failed=int(summary.get("files_failed", 0)) if summary else None,
        failures=failures,
        failures_by_category=(
            {str(k): int(v) for k, v in dict(summary.get("failure_reasons") or {}).items()}
            if summary
            else None
        ),
        files_cleaned=int(summary.get("files_cleaned", 0)) if summary else None,
        cleanup_failures=int(summary.get("cleanup_failures", 0)) if summary else None,
        prefect_url=f"{prefect_ui_url.rstrip('/')}/runs/flow-run/{run.id}"
        if prefect_ui_url
        else None,
    )


def _category(value: object) -> ErrorCategory | None:
    try:
        return ErrorCategory(str(value))
    except ValueError:  # a summary written before failures had categories
        return None
