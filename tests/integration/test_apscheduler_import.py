"""`migrate import-apscheduler` against a real APScheduler 3 job store in PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from typing import Any

import legacy_jobs
import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from autoloader_metadata.models import Ingestion
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker
from support import create_ingestion, fresh_database, migrated_database, prefect_call

CRONS = [
    ("*/5 * * * *", "UTC"),
    ("0 * * * *", "UTC"),
    ("30 2 * * *", "Europe/Paris"),
    ("0 9-17 * * mon-fri", "America/New_York"),
    ("15 */6 * * *", "UTC"),
    ("0 0 1 * *", "Asia/Tokyo"),
    ("45 23 * * sun", "UTC"),
]


@pytest.fixture(scope="module")
def stack(prefect_settings: dict[str, str]) -> dict[str, str]:
    return prefect_settings


@pytest.fixture(scope="module")
def database(stack: dict[str, str]) -> str:
    return migrated_database(stack["AUTOLOADER_DATABASE_URL"], "it_apscheduler")


@pytest.fixture(scope="module")
def jobstore(stack: dict[str, str]) -> str:
    return fresh_database(stack["AUTOLOADER_DATABASE_URL"], f"it_jobs_{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="module")
def legacy(sessions: sessionmaker[Session], jobstore: str) -> dict[str, uuid.UUID]:
    """A dozen jobs: nine ingestions (crons and intervals), three that cannot be carried over."""
    ingestions = {f"ingestion-{n}": create_ingestion(sessions) for n in range(9)}
    scheduler = BackgroundScheduler(jobstores={"default": SQLAlchemyJobStore(url=jobstore)})
    scheduler.start(paused=True)
    for n, (name, ingestion_id) in enumerate(ingestions.items()):
        if n < len(CRONS):
            cron, zone = CRONS[n]
            trigger: Any = CronTrigger.from_crontab(cron, timezone=zone)
        else:
            trigger = IntervalTrigger(minutes=15 if n % 2 else 30, timezone="UTC")
        arguments: dict[str, Any] = (
            {"kwargs": {"ingestion_id": str(ingestion_id)}}
            if n % 2
            else {"args": [str(ingestion_id)]}
        )
        scheduler.add_job(legacy_jobs.run_ingestion, trigger, id=name, **arguments)
    scheduler.add_job(
        legacy_jobs.run_ingestion,
        IntervalTrigger(minutes=7, timezone="UTC"),
        id="odd-interval",
        args=[str(create_ingestion(sessions))],
    )
    scheduler.add_job(
        legacy_jobs.run_ingestion,
        CronTrigger.from_crontab("0 * * * *", timezone="UTC"),
        id="gone",
        args=[str(uuid.uuid4())],
    )
    scheduler.add_job(
        legacy_jobs.nightly_report, CronTrigger(hour=1, timezone="UTC"), id="nightly-report"
    )
    scheduler.shutdown(wait=False)
    return ingestions


def migrate(database: str, jobstore: str, pool: str, *flags: str) -> str:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "autoloader_migrate.main",
            "import-apscheduler",
            "--jobstore-url",
            jobstore,
            *flags,
        ],
        env={**os.environ, "AUTOLOADER_DATABASE_URL": database, "AUTOLOADER_WORK_POOL": pool},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def job_next_runs(jobstore: str) -> dict[str, float | None]:
    engine = create_engine(jobstore)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, next_run_time FROM apscheduler_jobs")).all()
    engine.dispose()
    return {row.id: row.next_run_time for row in rows}


def deployments_of(sessions: sessionmaker[Session], ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
    with sessions() as session:
        return {i: session.get(Ingestion, i) for i in ids}


def read_deployment(deployment_id: uuid.UUID) -> Any:
    return prefect_call(lambda client: client.read_deployment(deployment_id))


def test_a_dry_run_prints_every_job_and_changes_nothing(
    database: str, jobstore: str, legacy: dict[str, uuid.UUID], sessions: sessionmaker[Session]
) -> None:
    before = job_next_runs(jobstore)
    out = migrate(database, jobstore, "it-apscheduler", "--dry-run")

    assert len(before) == 12
    for job_id in before:
        assert f"job {job_id}" in out
    assert "job ingestion-2 -> ingestion orders" in out
    assert (
        "would set the schedule to '30 2 * * *' (Europe/Paris); create its Prefect deployment"
        in out
    )
    assert "job odd-interval" in out and "does not divide an hour or a day evenly" in out
    assert "job gone: skipped: ingestion" in out
    assert "job nightly-report: skipped: no ingestion id" in out
    assert out.strip().endswith("12 jobs: 9 would change, 3 skipped")
    assert job_next_runs(jobstore) == before
    rows = deployments_of(sessions, list(legacy.values()))
    assert all(r.prefect_deployment_id is None and r.schedule_cron is None for r in rows.values())


def test_the_import_moves_schedules_to_deployments_and_pauses_jobs_once(
    database: str, jobstore: str, legacy: dict[str, uuid.UUID], sessions: sessionmaker[Session]
) -> None:
    before = job_next_runs(jobstore)
    first = migrate(database, jobstore, "it-apscheduler")

    assert first.strip().endswith("12 jobs: 9 changed, 3 skipped"), first
    after = job_next_runs(jobstore)
    for job_id in legacy:
        assert after[job_id] is None, f"{job_id} was not paused"
    for job_id in ("odd-interval", "gone", "nightly-report"):
        assert after[job_id] == before[job_id], f"{job_id} should be left alone"
    rows = deployments_of(sessions, list(legacy.values()))
    paris = rows[legacy["ingestion-2"]]
    assert (paris.schedule_cron, paris.schedule_timezone) == ("30 2 * * *", "Europe/Paris")
    deployment = read_deployment(paris.prefect_deployment_id)
    assert deployment.schedules[0].schedule.cron == "30 2 * * *"
    assert deployment.schedules[0].schedule.timezone == "Europe/Paris"
    assert deployment.parameters == {"ingestion_id": str(paris.id)}
    assert rows[legacy["ingestion-8"]].schedule_cron == "*/30 * * * *"

    second = migrate(database, jobstore, "it-apscheduler")
    assert second.strip().endswith("12 jobs: 0 changed, 3 skipped"), second
    assert second.count("already migrated, nothing to do") == 9
    assert job_next_runs(jobstore) == after
    again = deployments_of(sessions, list(legacy.values()))
    assert {i: r.prefect_deployment_id for i, r in again.items()} == {
        i: r.prefect_deployment_id for i, r in rows.items()
    }
