"""`migrate reconcile` repairs deployments that are missing or drifted from their ingestion."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from autoloader_metadata.enums import IngestionStatus
from autoloader_metadata.models import Ingestion
from sqlalchemy.orm import Session, sessionmaker
from support import create_ingestion, migrated_database, prefect_call


@pytest.fixture(scope="module")
def stack(prefect_settings: dict[str, str]) -> dict[str, str]:
    return prefect_settings


@pytest.fixture(scope="module")
def database(stack: dict[str, str]) -> str:
    return migrated_database(stack["AUTOLOADER_DATABASE_URL"], "it_reconcile")


def migrate(database: str, pool: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "autoloader_migrate.main", *args],
        env={**os.environ, "AUTOLOADER_DATABASE_URL": database, "AUTOLOADER_WORK_POOL": pool},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def row(sessions: sessionmaker[Session], ingestion_id: uuid.UUID) -> Ingestion:
    with sessions() as session:
        found = session.get(Ingestion, ingestion_id)
        assert found is not None
        return found


def deployment_of(sessions: sessionmaker[Session], ingestion_id: uuid.UUID) -> uuid.UUID:
    deployment_id = row(sessions, ingestion_id).prefect_deployment_id
    assert deployment_id is not None, f"ingestion {ingestion_id} has no deployment"
    return deployment_id


def test_missing_paused_and_deleted_deployments_are_repaired(
    database: str, sessions: sessionmaker[Session]
) -> None:
    from autoloader_orchestration.deployments import Deployments
    from prefect.client.schemas.schedules import CronSchedule

    pool = f"it-reconcile-{uuid.uuid4().hex[:6]}"
    missing = create_ingestion(sessions, schedule_cron="0 * * * *")
    drifted = create_ingestion(sessions, schedule_cron="*/10 * * * *")
    deleted = create_ingestion(sessions)

    first = migrate(database, pool, "reconcile")
    assert f"repair deployment of ingestion {missing}: missing" in first
    deployment_ids = {i: deployment_of(sessions, i) for i in (missing, drifted, deleted)}
    assert migrate(database, pool, "reconcile").strip() == "nothing to do"

    # Drift: someone pauses a deployment in the Prefect UI, deletes another, and an ingestion is
    # deleted in the metadata store while its deployment stays.
    prefect_call(lambda client: Deployments(client).pause(deployment_ids[drifted]))
    prefect_call(lambda client: Deployments(client).delete(deployment_ids[missing]))
    with sessions() as session:
        gone = session.get(Ingestion, deleted)
        assert gone is not None
        gone.status = IngestionStatus.DELETED
        session.commit()

    dry = migrate(database, pool, "reconcile", "--dry-run")
    assert f"would repair deployment of ingestion {missing}: missing" in dry
    assert f"would repair deployment of ingestion {drifted}: paused" in dry
    assert f"would delete deployment of deleted ingestion {deleted}" in dry
    assert (
        prefect_call(lambda client: Deployments(client).read(deployment_ids[deleted])) is not None
    )

    migrate(database, pool, "reconcile")
    assert migrate(database, pool, "reconcile").strip() == "nothing to do"
    restored = prefect_call(
        lambda client: Deployments(client).read(deployment_of(sessions, missing))
    )
    assert restored is not None
    schedule = restored.schedules[0].schedule
    assert isinstance(schedule, CronSchedule) and schedule.cron == "0 * * * *"
    resumed = prefect_call(lambda client: Deployments(client).read(deployment_ids[drifted]))
    assert resumed is not None and not resumed.paused
    assert prefect_call(lambda client: Deployments(client).read(deployment_ids[deleted])) is None
