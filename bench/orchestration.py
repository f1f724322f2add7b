"""./dev bench orchestration [--quick]: how fast runs start and how many ingestions Prefect holds.

1. Trigger to RUNNING: manual runs of an ingestion (its real flow, over an empty S3 prefix)
   on a warm Autoloader worker, one after another; the baseline is Prefect's own floor, a
   trivial flow deployed in the same pool and run by the same worker.
2. Scale: N ingestions (5,000; --quick 200) get their deployments (an hourly cron, a
   concurrency limit of one, tags, parameters) through Autoloader's path, 8 at a time; the
   baseline creates bare Prefect deployments with the same kind of cron for a sample of them.
   Each cron is first due 60-120 s (--quick: 15-75 s) after its creation, so the scheduler must
   keep up with the creations: lateness is how long after its expected start a deployment's
   first run was created (0 when on time).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _stack import services
from alembic import command
from autoloader_metadata.db import alembic_config, make_engine, session_factory
from autoloader_metadata.enums import FileFormat
from autoloader_metadata.models import Ingestion as IngestionRow
from autoloader_metadata.models import Tenant
from autoloader_model.ingestion import Ingestion, spec_of_columns
from autoloader_model.spec import ScheduleSpec
from autoloader_model.store import IngestionStore
from ledger import drop_database, fresh_database
from pydantic import SecretStr
from sqlalchemy import insert, update
from sqlalchemy.orm import Session, sessionmaker

from autoloader_core.settings import Settings

CONCURRENCY = 8


def hourly_cron_due_soon(lead: float) -> str:
    """An hourly cron whose next time is (lead - 60) to lead seconds away."""
    due = datetime.now(UTC) + timedelta(seconds=lead)
    return f"{due.minute} * * * *"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# -- 1. trigger to running -------------------------------------------------------------------


def start_worker(
    stack: dict[str, str], database: str, pool: str, log: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(os.path.abspath(p) for p in sys.path if p),
        "AUTOLOADER_DATABASE_URL": database,
        "AUTOLOADER_WORK_POOL": pool,
        "BENCH_S3_ACCESS_KEY_ID": stack["AUTOLOADER_S3_ACCESS_KEY"],
        "BENCH_S3_SECRET_ACCESS_KEY": stack["AUTOLOADER_S3_SECRET_KEY"],
        "BENCH_S3_ENDPOINT_URL": stack["AUTOLOADER_S3_ENDPOINT"],
        "BENCH_S3_REGION": stack["AUTOLOADER_S3_REGION"],
    }
    return subprocess.Popen(
        [sys.executable, "-m", "autoloader_worker.main", "--metrics-port", "0", "--no-reconcile"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


async def time_to_running(client: Any, trigger: Callable[[], Awaitable[Any]]) -> float:
    """Seconds from asking for a run to the server marking it RUNNING; waits for it to end."""
    from autoloader_orchestration.runs import TERMINAL
    from prefect.client.schemas.objects import StateType

    asked = datetime.now(UTC)
    run = await trigger()
    deadline = time.monotonic() + 120
    started: float | None = None
    while time.monotonic() < deadline:
        current = await client.read_flow_run(run.id)
        if started is None and current.start_time is not None:
            started = (current.start_time - asked).total_seconds()
        if current.state_type in TERMINAL:
            if current.state_type is not StateType.COMPLETED:
                raise RuntimeError(f"run {run.id} ended {current.state_name}: {current.state}")
            if started is None:
                raise RuntimeError(f"run {run.id} never started")
            return started
        await asyncio.sleep(0.05)
    raise TimeoutError(f"run {run.id} did not finish within 120 s")


async def trigger_latencies(
    settings: Settings, sessions: sessionmaker[Session], tenant: uuid.UUID, runs: int
) -> tuple[list[float], list[float]]:
    from autoloader_orchestration.queues import QueueNames, ensure_work_pool
    from autoloader_orchestration.scheduling import Orchestrator
    from prefect.client.orchestration import PrefectClient

    async with PrefectClient(os.environ["PREFECT_API_URL"]) as client:
        await ensure_work_pool(client, settings.work_pool, QueueNames.of(settings))
        orchestrator = Orchestrator(client, settings)
        spec = spec_of_columns(
            name="latency",
            source_uri="s3://landing/bench-empty/",
            credential_ref="env:BENCH_S3",
            format=FileFormat.CSV,
            destination_catalog="lake",
            destination_namespace="bench",
            destination_table="latency",
        )
        with sessions.begin() as session:
            created = IngestionStore(session).create(tenant, spec)
        deployment_id, flow_id = await orchestrator.apply(created)
        with sessions.begin() as session:
            ingestion = IngestionStore(session).mark_deployed(created, deployment_id, flow_id)
        assert ingestion is not None
        baseline_id = await bare_deployment(
            client,
            settings,
            "floor",
            None,
            "autoloader_flows.diagnostics.diagnostics",
            "autoloader-diagnostics",
        )

        async def ours() -> Any:
            return await orchestrator.trigger(ingestion)

        async def floor() -> Any:
            return await client.create_flow_run_from_deployment(
                baseline_id, work_queue_name=settings.priority_queue
            )

        await time_to_running(client, ours)  # warm-up: first imports, first Spark-less run
        await time_to_running(client, floor)
        measured: list[float] = []
        baseline: list[float] = []
        for _ in range(runs):  # alternate, so that drift on a noisy machine hits both alike
            measured.append(await time_to_running(client, ours))
            baseline.append(await time_to_running(client, floor))
        return measured, baseline


async def bare_deployment(
    client: Any, settings: Settings, name: str, cron: str | None, entrypoint: str, flow: str
) -> uuid.UUID:
    from prefect.client.schemas.actions import DeploymentScheduleCreate
    from prefect.client.schemas.schedules import CronSchedule

    flow_id = await client.create_flow_from_name(flow)
    return await client.create_deployment(  # type: ignore[no-any-return]
        flow_id=flow_id,
        name=name,
        entrypoint=entrypoint,
        work_pool_name=settings.work_pool,
        work_queue_name=settings.default_queue,
        schedules=[DeploymentScheduleCreate(schedule=CronSchedule(cron=cron))] if cron else [],
    )


# -- 2. scale --------------------------------------------------------------------------------


def seed_ingestions(
    sessions: sessionmaker[Session], tenant: uuid.UUID, count: int
) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    rows = [
        {
            "id": ingestion_id,
            "tenant_id": tenant,
            "name": f"scale-{n:05d}",
            "source_uri": f"s3://landing/scale/{n:05d}/",
            "format": FileFormat.PARQUET,
            "destination_catalog": "lake",
            "destination_namespace": "scale",
            "destination_table": f"t{n:05d}",
            "schedule_cron": "0 * * * *",
        }
        for n, ingestion_id in enumerate(ids)
    ]
    with sessions.begin() as session:
        session.execute(insert(IngestionRow), rows)
    return ids


async def create_deployments(
    settings: Settings, sessions: sessionmaker[Session], ids: list[uuid.UUID], lead: float
) -> float:
    """Autoloader's path for each ingestion: spec from its row, upsert, id stored back."""
    from autoloader_orchestration.queues import QueueNames, ensure_work_pool
    from autoloader_orchestration.scheduling import Orchestrator
    from prefect.client.orchestration import PrefectClient

    async with PrefectClient(os.environ["PREFECT_API_URL"]) as client:
        await ensure_work_pool(client, settings.work_pool, QueueNames.of(settings))
        orchestrator = Orchestrator(client, settings)
        await orchestrator.deployments.flow_id()
        with sessions() as session:
            store = IngestionStore(session)
            rows = {i: found for i in ids if (found := store.find(i)) is not None}
        limit = asyncio.Semaphore(CONCURRENCY)
        deployed: dict[uuid.UUID, uuid.UUID] = {}

        async def deploy(ingestion: Ingestion) -> None:
            async with limit:
                schedule = ScheduleSpec(cron=hourly_cron_due_soon(lead))
                spec = ingestion.spec.model_copy(update={"schedule": schedule})
                rows[ingestion.id] = ingestion = ingestion.model_copy(update={"spec": spec})
                deployment_id, _ = await orchestrator.apply(ingestion)
                assert deployment_id is not None
                deployed[ingestion.id] = deployment_id

        started = time.perf_counter()
        await asyncio.gather(*(deploy(rows[i]) for i in ids))
        with sessions.begin() as session:
            session.execute(
                update(IngestionRow),
                [
                    {
                        "id": i,
                        "prefect_deployment_id": d,
                        "schedule_cron": rows[i].spec.schedule.cron,
                    }
                    for i, d in deployed.items()
                ],
            )
        return time.perf_counter() - started


async def create_bare_deployments(settings: Settings, count: int, lead: float) -> float:
    from prefect.client.orchestration import PrefectClient

    async with PrefectClient(os.environ["PREFECT_API_URL"]) as client:
        limit = asyncio.Semaphore(CONCURRENCY)

        async def one(n: int) -> None:
            async with limit:
                await bare_deployment(
                    client,
                    settings,
                    f"bare-{n:05d}",
                    hourly_cron_due_soon(lead),
                    "bench.bare",
                    "bench-bare",
                )

        started = time.perf_counter()
        await asyncio.gather(*(one(n) for n in range(count)))
        return time.perf_counter() - started


async def schedule_lateness(
    pool: str, deployments: set[uuid.UUID], since: datetime, lead: float
) -> list[float]:
    """Per deployment, how long after its first due time (after `since`) its run was created.

    Polls until every deployment has such a run, or until 30 s after the last deployment's first
    due time (one still without a run then counts as late by the time waited). Runs are read
    50 deployments at a time: paging through all of them by offset is not stable, since
    hundreds share each due time and new ones arrive between pages.
    """
    from prefect.client.orchestration import PrefectClient
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterDeploymentId,
        FlowRunFilterExpectedStartTime,
        WorkPoolFilter,
        WorkPoolFilterName,
    )
    from prefect.client.schemas.sorting import FlowRunSort

    last_due = (datetime.now(UTC) + timedelta(seconds=lead)).replace(second=0, microsecond=0)
    window = FlowRunFilterExpectedStartTime.model_validate(
        {"after_": since, "before_": last_due + timedelta(minutes=1)}
    )
    lateness: dict[uuid.UUID, float] = {}
    async with PrefectClient(os.environ["PREFECT_API_URL"]) as client:
        while True:
            waiting = sorted(deployments - lateness.keys())
            for first in range(0, len(waiting), 50):
                chunk = waiting[first : first + 50]
                runs = await client.read_flow_runs(
                    work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[pool])),
                    flow_run_filter=FlowRunFilter(
                        deployment_id=FlowRunFilterDeploymentId(any_=chunk),
                        expected_start_time=window,
                    ),
                    sort=FlowRunSort.EXPECTED_START_TIME_ASC,  # a deployment's first due first
                    limit=200,  # at most one due time per hourly deployment in the window
                )
                for run in runs:
                    if run.deployment_id and run.created and run.expected_start_time:
                        late = (run.created - run.expected_start_time).total_seconds()
                        lateness.setdefault(run.deployment_id, max(0.0, late))
            now = datetime.now(UTC)
            if len(lateness) == len(deployments):
                return list(lateness.values())
            if now > last_due + timedelta(seconds=30):
                waited = (now - last_due).total_seconds()
                return list(lateness.values()) + [waited] * (len(deployments) - len(lateness))
            await asyncio.sleep(2)


async def remove_pools(pools: list[str]) -> None:
    """Deletes the benchmark's deployments and pools (a shared stack should not keep them)."""
    from prefect.client.orchestration import PrefectClient
    from prefect.client.schemas.filters import WorkPoolFilter, WorkPoolFilterName

    async with PrefectClient(os.environ["PREFECT_API_URL"]) as client:
        limit = asyncio.Semaphore(CONCURRENCY)

        async def delete(deployment_id: uuid.UUID) -> None:
            async with limit:
                await client.delete_deployment(deployment_id)

        for pool in pools:
            while page := await client.read_deployments(
                work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[pool])), limit=200
            ):
                await asyncio.gather(*(delete(deployment.id) for deployment in page))
            await client.delete_work_pool(pool)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smaller case, under a minute")
    args = parser.parse_args()
    runs, deployments, bare = (2, 100, 50) if args.quick else (20, 5000, 1000)
    lead = 75 if args.quick else 120
    with services("postgres", "prefect", "s3") as stack:
        # Named for every client explicitly: prefect, imported above (by autoloader_model),
        # captured its settings then, and get_client() would start an ephemeral server.
        os.environ["PREFECT_API_URL"] = stack["PREFECT_API_URL"]
        os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="bench-prefect-")
        database = fresh_database(stack["AUTOLOADER_DATABASE_URL"])
        command.upgrade(alembic_config(database), "head")
        engine = make_engine(database)
        sessions = session_factory(engine)
        with sessions.begin() as session:
            tenant = Tenant(name="bench")
            session.add(tenant)
            session.flush()
            tenant_id = tenant.id
        base = Settings(database_url=SecretStr(database), prefect_api_url=stack["PREFECT_API_URL"])
        latency_settings = base.model_copy(
            update={"work_pool": f"bench-latency-{uuid.uuid4().hex[:6]}"}
        )
        log = Path(tempfile.mkdtemp(prefix="bench-worker-")) / "worker.log"
        worker = start_worker(stack, database, latency_settings.work_pool, log)
        try:
            measured, baseline = asyncio.run(
                trigger_latencies(latency_settings, sessions, tenant_id, runs)
            )
        except Exception:
            print(log.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        finally:
            worker.terminate()
            worker.wait(60)
        scale_settings = base.model_copy(
            update={"work_pool": f"bench-scale-{uuid.uuid4().hex[:6]}"}
        )
        ids = seed_ingestions(sessions, tenant_id, deployments)
        since = datetime.now(UTC)
        create_seconds = asyncio.run(create_deployments(scale_settings, sessions, ids, lead))
        with sessions() as session:
            deployed = {
                row.prefect_deployment_id
                for row in session.query(IngestionRow).filter(IngestionRow.id.in_(ids))
                if row.prefect_deployment_id
            }
        lateness = asyncio.run(schedule_lateness(scale_settings.work_pool, deployed, since, lead))
        bare_settings = base.model_copy(update={"work_pool": scale_settings.work_pool})
        bare_seconds = asyncio.run(create_bare_deployments(bare_settings, bare, lead))
        if os.environ.get("AUTOLOADER_STACK_ENV"):
            asyncio.run(remove_pools([latency_settings.work_pool, scale_settings.work_pool]))
        engine.dispose()
        drop_database(database)
    ours_p50, ours_p95 = statistics.median(measured), percentile(measured, 0.95)
    floor_p95 = percentile(baseline, 0.95)
    per_ours = create_seconds / deployments
    per_bare = bare_seconds / bare
    print(
        f"trigger->running over {runs} runs: ours p50 {ours_p50:.2f} s p95 {ours_p95:.2f} s; "
        f"Prefect floor (trivial flow) p50 {statistics.median(baseline):.2f} s p95 {floor_p95:.2f} s"
    )
    print(
        f"{deployments} deployments in {create_seconds:.1f} s ({per_ours * 1000:.1f} ms each); "
        f"{bare} bare Prefect deployments in {bare_seconds:.1f} s ({per_bare * 1000:.1f} ms each); "
        f"{len(lateness)} first runs, lateness p95 {percentile(lateness, 0.95):.1f} s"
    )
    print(
        f"RESULT orchestration trigger_to_running_p50={ours_p50:.2f} "
        f"trigger_to_running_p95={ours_p95:.2f} baseline_trigger_to_running_p95={floor_p95:.2f} "
        f"trigger_ratio={floor_p95 / ours_p95:.2f} deployments={len(deployed)} "
        f"create_seconds={create_seconds:.1f} create_ratio={per_bare / per_ours:.2f} "
        f"schedule_lateness_p95={percentile(lateness, 0.95):.1f}"
    )


if __name__ == "__main__":
    main()
