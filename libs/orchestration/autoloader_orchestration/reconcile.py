"""Reconciliation: crash the runs whose heartbeat stopped, settle the batches they claimed, and
repair deployments that are missing or differ from their ingestion.

Safe to run from several places at once (each worker loops over it, `migrate reconcile` runs
it on demand): a PostgreSQL advisory lock lets one pass run at a time, and every step is
idempotent.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from autoloader_metadata.enums import IngestionStatus
from autoloader_model.ingestion import DeploymentState, Ingestion
from autoloader_model.store import IngestionStore
from autoloader_orchestration.deployments import Deployments
from autoloader_orchestration.names import INGESTION_FLOW, deployment_name
from autoloader_orchestration.queues import QueueNames, ensure_work_pool
from autoloader_orchestration.runs import TERMINAL
from autoloader_orchestration.scheduling import Orchestrator
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.filters import (
    DeploymentFilter,
    FlowFilter,
    FlowFilterName,
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterState,
    FlowRunFilterStateType,
    WorkPoolFilter,
    WorkPoolFilterName,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.client.schemas.responses import DeploymentResponse
from prefect.states import Crashed
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from autoloader_core.settings import Settings

# Settles one batch left claimed by a dead run: True when it had been committed to Iceberg.
Settle = Callable[[Ingestion, uuid.UUID], Awaitable[bool]]

LOCK_KEY = 0x6175746F6C6F6164  # "autoload"
PAGE = 200


@dataclass
class ReconcileReport:
    dry_run: bool
    crashed_runs: list[uuid.UUID] = field(default_factory=list)
    settled_batches: dict[uuid.UUID, str] = field(default_factory=dict)
    batches_left_for_next_run: list[uuid.UUID] = field(default_factory=list)
    repaired_deployments: dict[uuid.UUID, list[str]] = field(default_factory=dict)
    deleted_deployments: list[uuid.UUID] = field(default_factory=list)
    skipped: str | None = None

    def lines(self) -> list[str]:
        verb = "would " if self.dry_run else ""
        if self.skipped:
            return [f"skipped: {self.skipped}"]
        out = [f"{verb}mark run {run} crashed (no heartbeat)" for run in self.crashed_runs]
        out += [f"{verb}settle batch {b}: {how}" for b, how in self.settled_batches.items()]
        out += [
            f"batch {b} left claimed for the next run of its ingestion to settle"
            for b in self.batches_left_for_next_run
        ]
        out += [
            f"{verb}repair deployment of ingestion {i}: {', '.join(diff)}"
            for i, diff in self.repaired_deployments.items()
        ]
        out += [
            f"{verb}delete deployment of deleted ingestion {i}" for i in self.deleted_deployments
        ]
        return out or ["nothing to do"]


async def reconcile(
    sessions: sessionmaker[Session],
    client: PrefectClient,
    settings: Settings,
    dry_run: bool = False,
    settle: Settle | None = None,
) -> ReconcileReport:
    report = ReconcileReport(dry_run=dry_run)
    with sessions() as lock_session:
        locked = lock_session.execute(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}
        ).scalar_one()
        lock_session.commit()  # the advisory lock is the session's: no transaction stays open
        if not locked:
            report.skipped = "another reconciliation is running"
            return report
        try:
            stale = timedelta(seconds=settings.stale_run_seconds)
            await _crash_dead_runs(sessions, client, settings.work_pool, stale, report)
            await _settle_orphan_batches(sessions, client, settle, report)
            await _repair_deployments(sessions, client, settings, report)
        finally:
            lock_session.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
            lock_session.commit()
    return report


async def _crash_dead_runs(
    sessions: sessionmaker[Session],
    client: PrefectClient,
    pool: str,
    stale: timedelta,
    report: ReconcileReport,
) -> None:
    """Runs of this installation (its work pool, its ingestions) RUNNING in Prefect whose
    heartbeat is older than `stale`, or that started longer than `stale` ago without one."""
    with sessions() as session:
        beats = {
            row.flow_run_id: row.beat_at
            for row in session.execute(text("SELECT flow_run_id, beat_at FROM run_heartbeats"))
        }
        ours = set(session.scalars(text("SELECT id FROM ingestions")))
    now = datetime.now(UTC)
    running = [
        run for run in await _running_ingestion_runs(client, pool) if _ingestion_id_of(run) in ours
    ]
    dead: list[tuple[FlowRun, str]] = []
    for run in running:
        beat = beats.get(run.id)
        if beat is not None and now - beat > stale:
            dead.append((run, f"no heartbeat since {beat.isoformat()}; its worker is gone"))
        elif beat is None and run.start_time is not None and now - run.start_time > stale:
            dead.append((run, "it never sent a heartbeat; its worker is gone"))
    # Heartbeats of runs Prefect already ended (crashed or killed another way) are dead too.
    ended = [run_id for run_id in beats if run_id not in {run.id for run in running}]
    ended_runs = await _runs_by_id(client, ended)
    for run_id in ended:
        if now - beats[run_id] > stale and (
            run_id not in ended_runs or ended_runs[run_id].state_type in TERMINAL
        ):
            _forget_heartbeat(sessions, run_id, dry_run=report.dry_run)
    for run, reason in dead:
        report.crashed_runs.append(run.id)
        if report.dry_run:
            continue
        await client.set_flow_run_state(
            run.id, Crashed(message=f"Marked crashed by reconciliation: {reason}."), force=True
        )
        _forget_heartbeat(sessions, run.id, dry_run=False)


async def _settle_orphan_batches(
    sessions: sessionmaker[Session],
    client: PrefectClient,
    settle: Settle | None,
    report: ReconcileReport,
) -> None:
    """Batches still claimed by a run that is no longer alive."""
    with sessions() as session:
        rows = session.execute(
            text(
                """
                SELECT b.id, b.ingestion_id, b.flow_run_id FROM batches b
                LEFT JOIN run_heartbeats h ON h.flow_run_id = b.flow_run_id
                WHERE b.status = 'claimed'
                  AND (h.flow_run_id IS NULL OR b.flow_run_id = ANY(CAST(:crashed AS uuid[])))
                ORDER BY b.started_at
                """
            ),
            {"crashed": report.crashed_runs},
        ).all()
    runs = await _runs_by_id(client, [row.flow_run_id for row in rows if row.flow_run_id])
    for row in rows:
        run = runs.get(row.flow_run_id) if row.flow_run_id else None
        alive = (
            run is not None and run.state_type not in TERMINAL and run.id not in report.crashed_runs
        )
        if alive:
            continue
        if settle is None or report.dry_run:
            if settle is None:
                report.batches_left_for_next_run.append(row.id)
            else:
                report.settled_batches[row.id] = "recover against the Iceberg table"
            continue
        with sessions() as session:
            ingestion = IngestionStore(session).find(row.ingestion_id)
        if ingestion is None:
            continue
        committed = await settle(ingestion, row.id)
        report.settled_batches[row.id] = (
            "committed before the crash: marked loaded"
            if committed
            else "not committed: files released"
        )


async def _repair_deployments(
    sessions: sessionmaker[Session],
    client: PrefectClient,
    settings: Settings,
    report: ReconcileReport,
) -> None:
    """Writes the deployment of every ingestion whose deployment is pending (a change stored
    while Prefect did not answer), missing, or different from the row; removes those of
    deleted ingestions. No transaction is open while Prefect is called."""
    deployed = await _ingestion_deployments(client)
    by_name = {deployment.name: deployment for deployment in deployed.values()}
    orchestrator = Orchestrator(client, settings)
    if not report.dry_run:  # a deployment cannot name a pool or queue that does not exist
        await ensure_work_pool(client, settings.work_pool, QueueNames.of(settings))
    with sessions() as session:
        ingestions = IngestionStore(session).every()
    for ingestion in ingestions:
        current = (
            deployed.get(ingestion.deployment_id)
            if ingestion.deployment_id
            else by_name.get(deployment_name(ingestion.id))
        )
        if ingestion.status is IngestionStatus.DELETED:
            if current is not None:
                report.deleted_deployments.append(ingestion.id)
                if not report.dry_run:
                    await Deployments(client).delete(current.id)
            continue
        with sessions() as session:
            backlog = orchestrator.pending_bytes(session, ingestion.id)
        spec = orchestrator.spec(ingestion, backlog)
        differences = spec.differences(current) if current else ["missing"]
        if ingestion.deployment_state is DeploymentState.PENDING and current is not None:
            differences.append("pending")
        if not differences:
            continue
        report.repaired_deployments[ingestion.id] = differences
        if report.dry_run:
            continue
        deployment_id, flow_id = await orchestrator.apply(ingestion, backlog)
        with sessions.begin() as session:
            # Skipped when the row changed meanwhile: its own writer deploys it, or the next pass.
            IngestionStore(session).mark_deployed(ingestion, deployment_id, flow_id)


def _ingestion_id_of(run: FlowRun) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(run.parameters.get("ingestion_id")))
    except ValueError:
        return None


async def _running_ingestion_runs(client: PrefectClient, pool: str) -> list[FlowRun]:
    runs: list[FlowRun] = []
    while True:
        page = await client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[INGESTION_FLOW])),
            work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[pool])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.RUNNING]))
            ),
            limit=PAGE,
            offset=len(runs),
        )
        runs.extend(page)
        if len(page) < PAGE:
            return runs


async def _runs_by_id(client: PrefectClient, run_ids: list[uuid.UUID]) -> dict[uuid.UUID, FlowRun]:
    found: dict[uuid.UUID, FlowRun] = {}
    unique = list(dict.fromkeys(run_ids))
    for start in range(0, len(unique), PAGE):
        chunk = unique[start : start + PAGE]
        for run in await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=chunk)), limit=len(chunk)
        ):
            found[run.id] = run
    return found


async def _ingestion_deployments(client: PrefectClient) -> dict[uuid.UUID, DeploymentResponse]:
    found: dict[uuid.UUID, DeploymentResponse] = {}
    while True:
        page = await client.read_deployments(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[INGESTION_FLOW])),
            deployment_filter=DeploymentFilter(),
            limit=PAGE,
            offset=len(found),
        )
        found.update({deployment.id: deployment for deployment in page})
        if len(page) < PAGE:
            return found


def _forget_heartbeat(sessions: sessionmaker[Session], run_id: uuid.UUID, dry_run: bool) -> None:
    if dry_run:
        return
    with sessions.begin() as session:
        session.execute(
            text("DELETE FROM run_heartbeats WHERE flow_run_id = :run"), {"run": run_id}
        )
