"""`migrate import-apscheduler`: move each APScheduler job's ingestion onto its Prefect
deployment, then pause the old job (design note, section 9). Idempotent: a second pass finds
every deployment in place and every job paused, and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

from autoloader_model.ingestion import Ingestion
from autoloader_model.spec import ScheduleSpec
from autoloader_model.store import IngestionStore
from autoloader_orchestration.deployments import Deployments
from autoloader_orchestration.queues import QueueNames, ensure_work_pool
from autoloader_orchestration.scheduling import Orchestrator
from prefect.client.orchestration import PrefectClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from autoloader_core.settings import Settings
from autoloader_migrate.apscheduler_jobs import (
    LegacyJob,
    UnsupportedSchedule,
    cron_of,
    pause_job,
    read_jobs,
)


@dataclass
class JobOutcome:
    job_id: str
    ingestion: str | None = None
    actions: list[str] = field(default_factory=list)
    skipped: str | None = None

    def line(self, dry_run: bool) -> str:
        who = f"job {self.job_id}" + (f" -> ingestion {self.ingestion}" if self.ingestion else "")
        if self.skipped:
            return f"{who}: skipped: {self.skipped}"
        if not self.actions:
            return f"{who}: already migrated, nothing to do"
        return f"{who}: {'would ' if dry_run else ''}{'; '.join(self.actions)}"


async def import_jobs(
    jobstore: Engine,
    sessions: sessionmaker[Session],
    client: PrefectClient,
    settings: Settings,
    dry_run: bool,
    table: str = "apscheduler_jobs",
) -> list[JobOutcome]:
    if not dry_run:
        await ensure_work_pool(client, settings.work_pool, QueueNames.of(settings))
    orchestrator = Orchestrator(client, settings)
    outcomes = []
    for job in read_jobs(jobstore, table):
        outcome = JobOutcome(job.id)
        outcomes.append(outcome)
        with sessions() as session:
            ingestion = _ingestion_of(session, job, outcome)
        if ingestion is None:
            continue
        await _carry_schedule(sessions, orchestrator, ingestion, job, outcome, dry_run)
        if outcome.skipped:
            continue
        if not job.paused:
            outcome.actions.append("pause the APScheduler job")
            if not dry_run:
                pause_job(jobstore, job, table)
    return outcomes


def _ingestion_of(session: Session, job: LegacyJob, outcome: JobOutcome) -> Ingestion | None:
    ingestion_id = job.ingestion_id()
    if ingestion_id is None:
        outcome.skipped = "no ingestion id in its kwargs, first argument or job id"
        return None
    ingestion = IngestionStore(session).find_live(ingestion_id)
    if ingestion is None:
        outcome.skipped = f"ingestion {ingestion_id} is not in the metadata store"
        return None
    outcome.ingestion = f"{ingestion.name} ({ingestion.id})"
    return ingestion


async def _carry_schedule(
    sessions: sessionmaker[Session],
    orchestrator: Orchestrator,
    ingestion: Ingestion,
    job: LegacyJob,
    outcome: JobOutcome,
    dry_run: bool,
) -> None:
    """The job's schedule onto the ingestion (a short transaction), then its deployment
    written from the ingestion (outside any transaction)."""
    try:
        cron, timezone = cron_of(job.state.get("trigger"))
    except UnsupportedSchedule as error:
        outcome.skipped = str(error)
        return
    schedule = ingestion.spec.schedule
    if (schedule.cron, schedule.timezone) != (cron, timezone):
        outcome.actions.append(f"set the schedule to {cron!r} ({timezone})")
        carried = ScheduleSpec(cron=cron, timezone=timezone)
        if not dry_run:
            spec = ingestion.spec.model_copy(update={"schedule": carried})
            with sessions.begin() as session:
                ingestion = IngestionStore(session).change(
                    ingestion, spec=spec, actor="migrate import-apscheduler"
                )
        else:
            ingestion = ingestion.model_copy(
                update={"spec": ingestion.spec.model_copy(update={"schedule": carried})}
            )
    with sessions() as session:
        backlog = orchestrator.pending_bytes(session, ingestion.id)
    wanted = orchestrator.spec(ingestion, backlog)
    current = (
        await Deployments(orchestrator.client).read(ingestion.deployment_id)
        if ingestion.deployment_id
        else None
    )
    differences = wanted.differences(current) if current else []
    if current is None:
        outcome.actions.append("create its Prefect deployment")
    elif differences:
        outcome.actions.append(f"update its Prefect deployment ({', '.join(differences)})")
    if dry_run or not (
        current is None or differences or ingestion.deployed_version != ingestion.version
    ):
        return
    deployment_id, flow_id = await orchestrator.apply(ingestion, backlog)
    with sessions.begin() as session:
        IngestionStore(session).mark_deployed(ingestion, deployment_id, flow_id)
