"""The demo `./dev up` runs: `prepare` migrates the metadata store and creates the work pool;
`run` drops sample CSV files into the S3 store, creates (or reuses) the `demo-orders`
ingestion with a one-minute schedule, runs it now, and queries the table it loaded.

Run from the worker PEX: `PEX_MODULE=autoloader_worker.demo worker.pex prepare|run`.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from typing import Any

from alembic import command
from autoloader_metadata.db import alembic_config, make_engine, session_factory
from autoloader_metadata.enums import FileFormat, IngestionStatus
from autoloader_metadata.models import Ingestion, Tenant
from autoloader_metadata.repositories import IngestionRepository, TenantRepository
from autoloader_orchestration.queues import QueueNames, ensure_work_pool
from autoloader_orchestration.runs import TERMINAL, Runs
from autoloader_orchestration.scheduling import Orchestrator
from prefect.client.orchestration import get_client
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from autoloader_core.settings import Settings, get_settings
from autoloader_spark.session import close_all, connect
from autoloader_storage import credentials
from autoloader_storage.filesystems import filesystem
from autoloader_storage.uri import parse_source_uri

SOURCE = "s3://landing/demo/orders/"
CREDENTIAL = "env:AUTOLOADER_DEMO_S3"
TABLE = ("lake", "demo", "orders")
ROWS_PER_FILE = 5


def sample_csv(day: int) -> bytes:
    lines = ["order_id,customer,amount,ordered_at"]
    for n in range(ROWS_PER_FILE):
        order = day * 100 + n
        lines.append(
            f"{order},customer-{order % 7},{order * 1.25:.2f},2026-11-{day:02}T10:{n:02}:00"
        )
    return ("\n".join(lines) + "\n").encode()


def prepare(settings: Settings) -> None:
    url = settings.database_url.get_secret_value()
    command.upgrade(alembic_config(url), "head")

    async def pool() -> list[str]:
        async with get_client() as client:
            return await ensure_work_pool(client, settings.work_pool, QueueNames.of(settings))

    created = asyncio.run(pool())
    print(f"metadata store migrated; work pool {settings.work_pool!r} ready {created or ''}")


def upload_samples() -> list[str]:
    source = parse_source_uri(SOURCE)
    fs = filesystem(source, credentials.resolve(CREDENTIAL, source.kind))
    keys = []
    for day in (1, 2, 3):
        key = f"landing/demo/orders/orders-2026-11-{day:02}.csv"
        if not fs.exists(key):
            fs.pipe(key, sample_csv(day))
        keys.append(f"s3://{key}")
    return keys


def demo_ingestion(sessions: sessionmaker[Session]) -> uuid.UUID:
    with sessions.begin() as session:
        tenant = session.scalar(select(Tenant).where(Tenant.name == "demo"))
        if tenant is None:
            tenant = TenantRepository(session).create("demo")
        existing = session.scalar(
            select(Ingestion).where(
                Ingestion.tenant_id == tenant.id,
                Ingestion.name == "demo-orders",
                Ingestion.status != IngestionStatus.DELETED,
            )
        )
        if existing is not None:
            return existing.id
        return (
            IngestionRepository(session)
            .create(
                tenant.id,
                "demo-orders",
                source_uri=SOURCE,
                source_glob="*.csv",
                credential_ref=CREDENTIAL,
                format=FileFormat.CSV,
                format_options={"header": "true", "inferSchema": "true"},
                destination_catalog=TABLE[0],
                destination_namespace=TABLE[1],
                destination_table=TABLE[2],
                schedule_cron="* * * * *",
            )
            .id
        )


async def deploy_and_run(
    sessions: sessionmaker[Session], settings: Settings, ingestion_id: uuid.UUID
) -> Any:
    async with get_client() as client:
        orchestrator = Orchestrator(client, settings)
        with sessions() as session:
            ingestion = session.get(Ingestion, ingestion_id)
            assert ingestion is not None
            await orchestrator.write_deployment(ingestion, orchestrator.spec_in(session, ingestion))
            session.commit()
            run = await orchestrator.trigger(ingestion)
        print(f"flow run {run.name} ({run.id}) queued on {run.work_queue_name!r}", flush=True)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            current = await Runs(client).read(run.id)
            if current.state_type in TERMINAL:
                return current
            await asyncio.sleep(1)
        raise TimeoutError(f"the demo run {run.id} did not finish within 5 minutes")


def run_demo(settings: Settings) -> int:
    started = time.monotonic()
    sessions = session_factory(make_engine(settings.database_url.get_secret_value(), pool_size=2))
    files = upload_samples()
    print(f"sample files in the S3 store: {', '.join(files)}")
    ingestion_id = demo_ingestion(sessions)
    print(f"ingestion demo-orders ({ingestion_id}): {SOURCE} -> {'.'.join(TABLE)}, every minute")
    run = asyncio.run(deploy_and_run(sessions, settings, ingestion_id))
    state = run.state
    print(f"run finished {state.name if state else '?'}: {state.message if state else ''}")
    if run.state_type is None or run.state_type.value != "COMPLETED":
        return 1
    spark = connect(settings.spark_remote)
    try:
        table = spark.table(".".join(TABLE))
        print(f"\n{'.'.join(TABLE)} holds {table.count()} rows; the first ones:")
        table.select("order_id", "customer", "amount", "_source_file").orderBy("order_id").show(
            5, truncate=60
        )
    finally:
        close_all()
    print(
        f"Demo done in {time.monotonic() - started:.0f} s. Drop more CSV files under {SOURCE}: "
        "the next scheduled run (every minute) loads them."
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    settings = get_settings()
    if args == ["prepare"]:
        prepare(settings)
        return 0
    if args == ["run"]:
        return run_demo(settings)
    print("usage: autoloader_worker.demo prepare|run", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
