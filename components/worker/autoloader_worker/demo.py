"""The demo `./dev up` runs: `prepare` migrates the metadata store, installs the admin API key
and creates the work pool; `run` drops sample CSV files into the S3 store, and through the
REST API creates (or reuses) the `demo-orders` ingestion with a one-minute schedule, runs it
now and reads its run; then it queries the table the run loaded.

Run from the worker PEX: `PEX_MODULE=autoloader_worker.demo worker.pex prepare|run`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from typing import Any

import httpx
from autoloader_metadata.db import make_engine, session_factory
from autoloader_metadata.repositories import ApiKeyRepository
from autoloader_model.upgrade import upgrade_to_head
from autoloader_orchestration.queues import QueueNames, ensure_work_pool
from prefect.client.orchestration import get_client

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
    upgrade_to_head(url)
    if settings.admin_api_key is not None:
        engine = make_engine(url, pool_size=1)
        with session_factory(engine).begin() as session:
            ApiKeyRepository(session).install(
                settings.admin_api_key.get_secret_value(), settings.admin_tenant
            )
        engine.dispose()

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


def demo_body() -> dict[str, Any]:
    return {
        "name": "demo-orders",
        "source": {"uri": SOURCE, "glob": "*.csv", "credential_ref": CREDENTIAL},
        "format": {"type": "csv", "options": {"header": True, "inferSchema": True}},
        "destination": {"catalog": TABLE[0], "namespace": TABLE[1], "table": TABLE[2]},
        "schedule": {"cron": "* * * * *"},
    }


def demo_ingestion(api: httpx.Client) -> str:
    """Creates the demo ingestion through the API, or finds the one made before."""
    created = api.post("/api/v1/ingestions", json=demo_body())
    if created.status_code == 201:
        return str(created.json()["id"])
    if created.status_code != 409:
        raise RuntimeError(f"creating the demo ingestion: {created.status_code} {created.text}")
    found = api.get("/api/v1/ingestions", params={"name": "demo-orders"}).json()["items"]
    return str(found[0]["id"])


def run_through_api(api: httpx.Client, ingestion_id: str) -> dict[str, Any]:
    started = api.post(f"/api/v1/ingestions/{ingestion_id}/run")
    if started.status_code != 202:
        raise RuntimeError(f"starting the demo run: {started.status_code} {started.text}")
    run_id = started.json()["run_id"]
    print(f"run {run_id} queued on {started.json()['work_queue']!r}", flush=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        run: dict[str, Any] = api.get(f"/api/v1/runs/{run_id}").json()
        if run["end_time"] and run["state"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            return run
        time.sleep(1)
    raise TimeoutError(f"the demo run {run_id} did not finish within 5 minutes")


def run_demo(settings: Settings) -> int:
    """The demo through the REST API, as a user would drive it."""
    started = time.monotonic()
    files = upload_samples()
    print(f"sample files in the S3 store: {', '.join(files)}")
    api_url = os.environ["AUTOLOADER_API_URL"]
    key = settings.admin_api_key.get_secret_value() if settings.admin_api_key else ""
    with httpx.Client(
        base_url=api_url, headers={"Authorization": f"Bearer {key}"}, timeout=120
    ) as api:
        ingestion_id = demo_ingestion(api)
        print(
            f"ingestion demo-orders ({ingestion_id}): {SOURCE} -> {'.'.join(TABLE)}, every minute"
        )
        run = run_through_api(api, ingestion_id)
    print(
        f"run finished {run['state_name']}: {run['files_loaded']} files, {run['rows']} rows"
        f"{'; ' + run['message'] if run['message'] else ''}"
    )
    if run["state"] != "COMPLETED":
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
        "the next scheduled run (every minute) loads them.\nThe API: "
        f"curl -H 'Authorization: Bearer $AUTOLOADER_ADMIN_API_KEY' {api_url}/api/v1/ingestions "
        "(the key is in .dev/stack.env)"
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
