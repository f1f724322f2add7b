"""Per-tenant limits: ingestions stored, runs and previews in flight. One tenant cannot start a
run storm or fill the workers with previews; past a limit the answer is 429 with the figure."""

from __future__ import annotations

import uuid

from autoloader_metadata.enums import IngestionStatus
from autoloader_metadata.errors import LimitReached
from autoloader_metadata.models import Ingestion as IngestionRow
from autoloader_orchestration.names import tenant_tag
from autoloader_orchestration.queues import RunKind
from autoloader_orchestration.runs import Runs
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from autoloader_api.services import Services

PREVIEW_TAG = "trigger:preview"
CALLER_TRIGGERS = [f"trigger:{RunKind.MANUAL.value}", f"trigger:{RunKind.RETRY.value}"]


def check_ingestions(session: Session, tenant_id: uuid.UUID, limit: int) -> None:
    """In the create's transaction: the tenant's live ingestions, below the limit."""
    live = session.scalar(
        select(func.count())
        .select_from(IngestionRow)
        .where(IngestionRow.tenant_id == tenant_id, IngestionRow.status != IngestionStatus.DELETED)
    )
    if (live or 0) >= limit:
        raise LimitReached(
            f"this tenant has {live} ingestions, the installation's limit "
            "(AUTOLOADER_TENANT_MAX_INGESTIONS); delete one first"
        )


async def check_runs(services: Services, tenant_id: uuid.UUID) -> None:
    await _check_in_flight(
        services,
        [tenant_tag(tenant_id)],
        [*CALLER_TRIGGERS, PREVIEW_TAG],
        services.settings.tenant_max_runs_in_flight,
        "runs in flight",
        "AUTOLOADER_TENANT_MAX_RUNS_IN_FLIGHT",
    )


async def check_previews(services: Services, tenant_id: uuid.UUID) -> None:
    await _check_in_flight(
        services,
        [tenant_tag(tenant_id), PREVIEW_TAG],
        [PREVIEW_TAG],
        services.settings.tenant_max_previews_in_flight,
        "previews in flight",
        "AUTOLOADER_TENANT_MAX_PREVIEWS_IN_FLIGHT",
    )


async def _check_in_flight(
    services: Services,
    tags: list[str],
    started_by: list[str],
    limit: int,
    what: str,
    setting: str,
) -> None:
    async with services.prefect_call():
        flying = await Runs(services.orchestrator.client).in_flight(tags, started_by)
    if flying >= limit:
        raise LimitReached(
            f"this tenant has {flying} {what}, the installation's limit ({setting}); "
            "try again when some have finished"
        )
