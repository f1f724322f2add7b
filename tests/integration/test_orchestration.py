"""Orchestration end to end on the real stack: PostgreSQL, a Prefect server, Autoloader workers
as processes, the S3 store, Spark Connect with Iceberg.

Each test works in a work pool of its own, so its runs reach only its own workers (which read
this module's database).
"""

from __future__ import annotations

import re
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from autoloader_metadata.enums import FileFormat, FileStatus, IngestionStatus
from autoloader_metadata.ledger import FileLedger
from autoloader_metadata.models import Batch, LedgerFile
from autoloader_model.ingestion import Ingestion, spec_columns, spec_of_columns
from autoloader_model.store import IngestionStore
from prefect_workers import WorkerProcess, wait_for
from pydantic import SecretStr
from pyspark.sql import SparkSession
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from stores import Place, new_place
from support import StackFactory, create_ingestion, csv_of, migrated_database, prefect_call

from autoloader_core.settings import Settings
from autoloader_devstack.ports import free_port

DDL = "id INT, name STRING, amount DOUBLE"


@pytest.fixture(scope="module")
def stack(services: StackFactory, prefect_settings: dict[str, str]) -> dict[str, str]:
    return services("prefect", "spark")


@pytest.fixture(scope="module")
def database(stack: dict[str, str]) -> str:
    return migrated_database(stack["AUTOLOADER_DATABASE_URL"], "it_orchestration")


@pytest.fixture
def settings(stack: dict[str, str], database: str) -> Settings:
    """Settings of one test: its own work pool, quick heartbeats and reconciliation."""
    return Settings(
        environment="test",
        database_url=SecretStr(database),
        prefect_api_url=stack["PREFECT_API_URL"],
        work_pool=f"it-{uuid.uuid4().hex[:8]}",
        spark_remote=stack["AUTOLOADER_SPARK_REMOTE"],
        heartbeat_seconds=1,
        stale_run_seconds=15,
        reconcile_every_seconds=2,
        task_retries=1,
        task_retry_delay_seconds=1,
    )


@pytest.fixture
def place(stack: dict[str, str], tmp_path: Path) -> Place:
    return new_place("s3", stack, tmp_path)


@pytest.fixture
def start_worker(
    settings: Settings, place: Place, tmp_path: Path
) -> Iterator[Callable[..., WorkerProcess]]:
    env = {
        **place.environ,
        "AUTOLOADER_ENVIRONMENT": "test",
        "AUTOLOADER_DATABASE_URL": settings.database_url.get_secret_value(),
        "AUTOLOADER_WORK_POOL": settings.work_pool,
        "AUTOLOADER_SPARK_REMOTE": settings.spark_remote,
        "AUTOLOADER_HEARTBEAT_SECONDS": str(settings.heartbeat_seconds),
        "AUTOLOADER_STALE_RUN_SECONDS": str(settings.stale_run_seconds),
        "AUTOLOADER_RECONCILE_EVERY_SECONDS": str(settings.reconcile_every_seconds),
        "AUTOLOADER_TASK_RETRIES": str(settings.task_retries),
        "AUTOLOADER_TASK_RETRY_DELAY_SECONDS": str(settings.task_retry_delay_seconds),
        "PREFECT_API_URL": settings.prefect_api_url,
    }
    started: list[WorkerProcess] = []

    def start(*args: str, **overrides: str) -> WorkerProcess:
        log = tmp_path / f"worker-{len(started)}.log"
        worker = WorkerProcess({**env, **overrides}, log, *args)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def new_ingestion(sessions: sessionmaker[Session], place: Place, **fields: Any) -> Ingestion:
    ingestion_id = create_ingestion(
        sessions,
        source_uri=place.uri,
        credential_ref=place.credential_ref,
        format=FileFormat.CSV,
        schema_ddl=DDL,
        destination_catalog="lake",
        destination_namespace="it_orchestration",
        destination_table=f"t_{uuid.uuid4().hex[:10]}",
        **fields,
    )
    return ingestion_with(sessions, ingestion_id)


def change_and_deploy(
    sessions: sessionmaker[Session], settings: Settings, ingestion_id: uuid.UUID, **changes: Any
) -> uuid.UUID:
    """Changes the ingestion's row, then writes its deployment again, as the API does."""
    status = changes.pop("status", None)
    with sessions.begin() as session:
        store = IngestionStore(session)
        current = store.find(ingestion_id)
        assert current is not None
        spec = spec_of_columns(**{**spec_columns(current.spec), **changes})
        store.change(current, spec=spec, status=status)
    return deploy(sessions, settings, ingestion_id)


def deploy(
    sessions: sessionmaker[Session], settings: Settings, ingestion_id: uuid.UUID
) -> uuid.UUID:
    """Creates the pool's queues and the ingestion's deployment, as the API does."""
    from autoloader_orchestration.queues import QueueNames, ensure_work_pool
    from autoloader_orchestration.scheduling import Orchestrator

    async def go(client: Any) -> uuid.UUID:
        await ensure_work_pool(client, settings.work_pool, QueueNames.of(settings))
        orchestrator = Orchestrator(client, settings)
        with sessions() as session:
            ingestion = IngestionStore(session).find(ingestion_id)
            backlog = orchestrator.pending_bytes(session, ingestion_id)
        assert ingestion is not None
        deployment_id, flow_id = await orchestrator.apply(ingestion, backlog)
        assert deployment_id is not None
        with sessions.begin() as session:
            IngestionStore(session).mark_deployed(ingestion, deployment_id, flow_id)
        return deployment_id

    return prefect_call(go)


def runs_of(deployment_id: uuid.UUID, *states: Any) -> list[Any]:
    from autoloader_orchestration.runs import Runs

    return prefect_call(
        lambda client: Runs(client).of_deployment(deployment_id, states=list(states))
    )


def finished(run_id: uuid.UUID) -> Any:
    from autoloader_orchestration.runs import TERMINAL, Runs

    run = prefect_call(lambda client: Runs(client).read(run_id))
    return run if run.state_type in TERMINAL else None


def table_ids(spark: SparkSession, ingestion: Ingestion) -> list[int]:
    name = f"lake.it_orchestration.{ingestion.spec.destination.table}"
    spark.catalog.refreshTable(name)  # the session caches Iceberg tables; workers wrote since
    return sorted(row.id for row in spark.table(name).select("id").collect())


def status_counts(
    sessions: sessionmaker[Session], ingestion_id: uuid.UUID
) -> dict[FileStatus, int]:
    with sessions() as session:
        return FileLedger(session).counts(ingestion_id)


def test_scheduled_manual_paused_and_resumed_runs(
    sessions: sessionmaker[Session],
    settings: Settings,
    place: Place,
    spark: SparkSession,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    from autoloader_orchestration.deployments import Deployments
    from autoloader_orchestration.previews import Previews
    from autoloader_orchestration.runs import TERMINAL, RunNotFound, Runs
    from autoloader_orchestration.scheduling import Orchestrator
    from prefect.client.schemas.objects import StateType

    place.put({"a.csv": csv_of(range(1, 4)), "b.csv": csv_of(range(4, 7))})
    ingestion = new_ingestion(sessions, place, schedule_cron="* * * * *")
    deployment_id = deploy(sessions, settings, ingestion.id)
    # Its next runs exist once the deployment is written, not at a later scheduler pass.
    assert runs_of(deployment_id, StateType.SCHEDULED)
    metrics_port = free_port()
    worker = start_worker("--metrics-port", str(metrics_port))

    # The scheduler's run (at the next minute) loads both files on the default queue.
    scheduled = wait_for(
        lambda: runs_of(deployment_id, *TERMINAL),
        150,
        "the first scheduled run to finish",
        every=2,
        context=worker.tail,
    )[0]
    assert scheduled.state_type is StateType.COMPLETED, worker.tail()
    assert scheduled.work_queue_name == settings.default_queue, worker.tail()
    assert "trigger:manual" not in scheduled.tags
    assert table_ids(spark, ingestion) == list(range(1, 7))

    # A rare schedule from now on, so that only the manual run below sees the new file.
    change_and_deploy(sessions, settings, ingestion.id, schedule_cron="0 0 * * *")
    place.put({"c.csv": csv_of(range(7, 10))})
    current = ingestion_with(sessions, ingestion.id)
    manual = prefect_call(
        lambda client: Orchestrator(client, settings).trigger(current, "it-manual-1")
    )
    again = prefect_call(
        lambda client: Orchestrator(client, settings).trigger(current, "it-manual-1")
    )
    assert again.id == manual.id  # the same idempotency key is the same run
    assert manual.work_queue_name == settings.priority_queue
    done = wait_for(lambda: finished(manual.id), 120, "the manual run", every=1)
    assert done.state_type is StateType.COMPLETED, worker.tail()
    assert done.state.message.startswith("1 files loaded (3 rows"), done.state.message
    assert table_ids(spark, ingestion) == list(range(1, 10))  # new rows only, none twice
    assert status_counts(sessions, ingestion.id) == {FileStatus.LOADED: 3}

    # Pausing removes the runs scheduled ahead; resuming schedules them again.
    def scheduled_ahead() -> list[Any]:
        return runs_of(deployment_id, StateType.SCHEDULED)

    wait_for(scheduled_ahead, 60, "runs scheduled ahead before pausing")
    change_and_deploy(sessions, settings, ingestion.id, status=IngestionStatus.PAUSED)
    wait_for(lambda: not scheduled_ahead(), 30, "scheduled runs to go on pause")
    deployment = prefect_call(lambda client: Deployments(client).read(deployment_id))
    assert deployment is not None and deployment.paused
    change_and_deploy(sessions, settings, ingestion.id, status=IngestionStatus.ACTIVE)
    # Scheduled again on resume. Under load Prefect deletes the runs of the pause late, after
    # the resume has scheduled new ones (seen in CI: runs listed, then 404), and its scheduler
    # makes them again: so the test waits for runs that stay.
    resumed = wait_for(scheduled_ahead, 60, "runs scheduled ahead again on resume")
    assert all(r.work_queue_name == settings.default_queue for r in resumed)

    # A run scheduled ahead can be cancelled before it starts.
    def cancel_one() -> Any:
        ahead = scheduled_ahead()
        if not ahead:
            return None
        try:
            return prefect_call(lambda client: Runs(client).cancel(ahead[-1].id))
        except RunNotFound:
            return None  # deleted by the late pause in between: take the next one

    cancelled = wait_for(cancel_one, 60, "a run scheduled ahead to cancel")
    assert cancelled.state_type is StateType.CANCELLED

    # A preview runs on the priority queue, reads the files, writes nothing.
    preview_run = prefect_call(
        lambda client: Previews(client, settings).start(ingestion_id=ingestion.id)
    )
    assert preview_run.work_queue_name == settings.priority_queue
    preview = wait_for(
        lambda: prefect_call(lambda client: Previews(client, settings).result(preview_run.id)),
        120,
        "the preview",
        context=worker.tail,
    )
    assert preview is not None and preview["matching_files"] == 3
    assert [c["name"] for c in preview["columns"]][:3] == ["id", "name", "amount"]
    assert sorted(row["id"] for row in preview["rows"]) == list(range(1, 10))
    assert table_ids(spark, ingestion) == list(range(1, 10))  # still: nothing written

    def scrape() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics") as response:
            return str(response.read().decode())

    # Once the preview's process has exited, nothing runs on the worker.
    metrics = wait_for(
        lambda: (text if "worker_active_tasks 0.0" in (text := scrape()) else ""), 60, "idle"
    )
    completed = re.search(r'^flow_runs_total\{status="completed"\} (\S+)$', metrics, re.M)
    assert completed and float(completed.group(1)) >= 2, metrics
    assert re.search(r"^flow_run_duration_seconds_count [1-9]", metrics, re.M), metrics
    assert 'work_queue_depth{queue="priority"}' in metrics
    assert worker.stop() == 0, worker.tail()


def ingestion_with(sessions: sessionmaker[Session], ingestion_id: uuid.UUID) -> Ingestion:
    with sessions() as session:
        found = IngestionStore(session).find(ingestion_id)
    assert found is not None
    return found


def test_a_run_killed_with_its_worker_is_crashed_and_its_files_load_once(
    sessions: sessionmaker[Session],
    settings: Settings,
    place: Place,
    spark: SparkSession,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    from autoloader_orchestration.scheduling import Orchestrator
    from prefect.client.schemas.objects import StateType

    files, rows_per_file = 30, 100
    place.put(
        {
            f"part-{n:03}.csv": csv_of(range(n * rows_per_file + 1, (n + 1) * rows_per_file + 1))
            for n in range(files)
        }
    )
    ingestion = new_ingestion(sessions, place, max_files_per_batch=3)
    deploy(sessions, settings, ingestion.id)
    first_worker = start_worker("--no-reconcile")
    run = prefect_call(
        lambda client: Orchestrator(client, settings).trigger(
            ingestion_with(sessions, ingestion.id)
        )
    )

    def loaded_some() -> bool:
        return status_counts(sessions, ingestion.id).get(FileStatus.LOADED, 0) >= 3

    wait_for(loaded_some, 180, "the run to load its first batch", every=0.2)
    killed = first_worker.kill()
    assert len(killed) >= 2, "the run's process should have died with its worker"
    after_kill = status_counts(sessions, ingestion.id)
    assert after_kill.get(FileStatus.LOADED, 0) < files, "the run finished before the kill"
    assert prefect_call(lambda client: client.read_flow_run(run.id)).state_type is StateType.RUNNING

    # A new worker's reconciliation finds the silent run, crashes it and settles its batch.
    second_worker = start_worker()
    crashed = wait_for(lambda: finished(run.id), 60, "the dead run to be marked crashed")
    assert crashed.state_type is StateType.CRASHED, second_worker.tail()
    assert "heartbeat" in (crashed.state.message or "")

    def nothing_claimed() -> bool:
        with sessions() as session:
            claimed = session.scalar(
                select(func.count())
                .select_from(Batch)
                .where(Batch.ingestion_id == ingestion.id, Batch.status == "claimed")
            )
        return claimed == 0

    wait_for(nothing_claimed, 60, "the dead run's batch to be settled")
    assert status_counts(sessions, ingestion.id).get(FileStatus.CLAIMED, 0) == 0

    # Retrying the crashed run starts a new run of the deployment, on the priority queue.
    rerun = prefect_call(lambda client: Orchestrator(client, settings).retry(run.id))
    assert rerun.id != run.id and rerun.work_queue_name == settings.priority_queue
    assert prefect_call(lambda client: Orchestrator(client, settings).retry(run.id)).id == rerun.id
    done = wait_for(lambda: finished(rerun.id), 240, "the next run", every=1)
    assert done.state_type is StateType.COMPLETED, second_worker.tail()
    ids = table_ids(spark, ingestion)
    assert len(ids) == files * rows_per_file
    assert ids == list(range(1, files * rows_per_file + 1))  # every row exactly once
    assert status_counts(sessions, ingestion.id) == {FileStatus.LOADED: files}
    assert second_worker.stop() == 0, second_worker.tail()


def test_a_run_in_which_a_file_failed_says_so_in_its_final_state(
    sessions: sessionmaker[Session],
    settings: Settings,
    place: Place,
    spark: SparkSession,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    from autoloader_orchestration.scheduling import Orchestrator
    from prefect.client.schemas.objects import StateType

    place.put({"good.csv": csv_of(range(1, 4)), "broken.csv.gz": b"this is not gzip at all"})
    ingestion = new_ingestion(sessions, place)
    deploy(sessions, settings, ingestion.id)
    worker = start_worker()
    current = ingestion_with(sessions, ingestion.id)
    run = prefect_call(lambda client: Orchestrator(client, settings).trigger(current))
    done = wait_for(lambda: finished(run.id), 240, "the run", every=1, context=worker.tail)

    assert done.state_type is StateType.COMPLETED, worker.tail()
    assert done.state_name == "Completed with failures"
    message = done.state.message or ""
    assert "1 files loaded (3 rows" in message and "1 files failed (1 malformed)" in message
    assert "broken.csv.gz" in message, message
    assert table_ids(spark, ingestion) == [1, 2, 3]
    counts = status_counts(sessions, ingestion.id)
    assert counts == {FileStatus.LOADED: 1, FileStatus.FAILED: 1}
    # Not gzip is not gzip on any later try: the file used up its attempts at once.
    with sessions() as session:
        failed = session.execute(
            select(LedgerFile.attempts, LedgerFile.error_category).where(
                LedgerFile.ingestion_id == ingestion.id, LedgerFile.status == FileStatus.FAILED
            )
        ).all()
    assert [tuple(f) for f in failed] == [(settings.max_file_attempts, "malformed")]


def test_messy_files_fail_alone_at_once_and_a_later_file_loads_at_the_next_run(
    sessions: sessionmaker[Session],
    settings: Settings,
    place: Place,
    spark: SparkSession,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    """The user's report: one spreadsheet export among good files stalled the ingestion. Now
    the good files load in the first run, each bad one fails with its category, and no task
    waits on a retry (the worker retries 3 times, 60 s apart: a retry would pass the bound)."""
    from autoloader_orchestration.scheduling import Orchestrator
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    place.put(
        {
            "a.csv": csv_of(range(1, 3)),
            "b_spreadsheet.csv": b"id,order id,amount\n7,A-7,12.5\n",
            "c_bom.csv": b"\xef\xbb\xbfid,name,amount\r\n3,c,3.0\r\n",
            "d_case.csv": b"Id,id\n1,2\n",
            "e_semicolon.csv": b"id;name;amount\n4;d;4.0\n",
            "f_empty.csv": b"",
            "g_truncated.csv.gz": b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03",
        }
    )
    ingestion = new_ingestion(sessions, place)
    deploy(sessions, settings, ingestion.id)
    worker = start_worker(AUTOLOADER_TASK_RETRIES="3", AUTOLOADER_TASK_RETRY_DELAY_SECONDS="60")

    def run_once() -> Any:
        current = ingestion_with(sessions, ingestion.id)
        run = prefect_call(lambda client: Orchestrator(client, settings).trigger(current))
        # The bound: a run of seven small files, with no retry wait (the first is 60 s).
        return wait_for(lambda: finished(run.id), 150, "the run", every=1, context=worker.tail)

    first = run_once()

    assert first.state_name == "Completed with failures", worker.tail()
    message = first.state.message or ""
    print(f"first run: {message}")
    assert "4 files loaded (4 rows" in message, message
    assert "3 files failed (2 malformed, 1 schema_mismatch)" in message, message
    assert table_ids(spark, ingestion) == [1, 2, 3, 7]
    tasks = prefect_call(
        lambda client: client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[first.id]))
        )
    )
    assert tasks and all(task.run_count == 1 for task in tasks), [
        (task.name, task.run_count) for task in tasks
    ]
    with sessions() as session:
        rows = session.execute(
            select(LedgerFile.path, LedgerFile.error_category).where(
                LedgerFile.ingestion_id == ingestion.id, LedgerFile.status == FileStatus.FAILED
            )
        ).all()
    failed = {row.path: row.error_category for row in rows}
    assert {path.rsplit("/", 1)[1]: c for path, c in failed.items()} == {
        "d_case.csv": "schema_mismatch",
        "e_semicolon.csv": "malformed",
        "g_truncated.csv.gz": "malformed",
    }

    place.put({"h_later.csv": csv_of(range(5, 6))})
    second = run_once()

    assert second.state_name == "Completed", (second.state_name, second.state.message)
    assert "1 files loaded (1 rows" in (second.state.message or "")
    assert table_ids(spark, ingestion) == [1, 2, 3, 5, 7]


def test_a_run_on_a_table_its_tenant_may_no_longer_use_stops_before_it_reads(
    sessions: sessionmaker[Session],
    settings: Settings,
    place: Place,
    spark: SparkSession,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    """Tenant B's ingestion on tenant A's table, created while an admin shared it, then the
    share taken back: B's next run fails with the reason, and A's table gets nothing."""
    from autoloader_metadata.repositories import TenantRepository
    from autoloader_metadata.tables import TableOwnership
    from autoloader_model.store import destination_of
    from autoloader_orchestration.scheduling import Orchestrator
    from prefect.client.schemas.objects import StateType

    owned = new_ingestion(sessions, place)  # tenant A's; it owns the table
    table = destination_of(owned.spec)
    place.put({"b.csv": csv_of(range(100, 103))})
    with sessions.begin() as session:
        other = TenantRepository(session).create(f"tenant-{uuid.uuid4().hex[:8]}")
        TableOwnership(session).share(other.id, table, "admin")
        spec = spec_of_columns(**{**spec_columns(owned.spec), "name": "intruder"})
        intruder = IngestionStore(session).create(other.id, spec)
    with sessions.begin() as session:
        TableOwnership(session).unshare(other.id, table)
    deploy(sessions, settings, intruder.id)
    worker = start_worker()

    current = ingestion_with(sessions, intruder.id)
    run = prefect_call(lambda client: Orchestrator(client, settings).trigger(current))
    done = wait_for(lambda: finished(run.id), 120, "the run", every=1, context=worker.tail)

    assert done.state_type is StateType.FAILED, (done.state_type, done.state.message)
    assert f"table {table} is not available to this tenant" in (done.state.message or "")
    assert status_counts(sessions, intruder.id) == {}  # it did not even list the files
    assert not spark.catalog.tableExists(str(table))  # A never ran; B stopped before Spark
