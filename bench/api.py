"""./dev bench api [--quick]: how fast the REST API answers with 1,000 ingestions stored.

Last, a mixed case: 45 clients list while 5 others change a handful of shared ingestions
(schedules, pause, resume) and /health is polled every 50 ms; writes must answer 200, 409 or
412. Goals: mixed list p99 <= 100 ms and health p99 <= 50 ms while the writes run.

The API runs as its own process against PostgreSQL and Prefect. 50 clients (one async load
generator, closed loop: each sends its next request when the last is answered) list
ingestions (a page of 50) for a while, then get single ingestions; the baseline is `/health`
under the same load, the floor of the process, the HTTP stack and the load generator on this
machine. Creates (each with its Prefect deployment) are timed one after another, as a user or
a deployment script makes them; concurrent creates queue on the Prefect server (see the
orchestration benchmark).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from _stack import services
from alembic import command
from autoloader_metadata.db import alembic_config, make_engine, session_factory
from autoloader_metadata.enums import ApiScope, FileFormat
from autoloader_metadata.models import Ingestion
from autoloader_metadata.repositories import ApiKeyRepository, new_key
from autoloader_model.store import IngestionStore
from ledger import drop_database, fresh_database
from sqlalchemy import insert, text

from autoloader_devstack.ports import free_port

CLIENTS = 50
READERS = 45  # of the mixed case


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def seed(database: str, count: int) -> tuple[str, list[str]]:
    """A tenant with a write key and `count` stored ingestions; returns the key and their ids."""
    engine = make_engine(database, pool_size=1)
    plaintext = new_key()
    with session_factory(engine).begin() as session:
        key, _ = ApiKeyRepository(session).install(plaintext, "bench", "bench", [ApiScope.WRITE])
        tenant_id = key.tenant_id
        ids = [uuid.uuid4() for _ in range(count)]
        session.execute(
            insert(Ingestion),
            [
                {
                    "id": ingestion_id,
                    "tenant_id": tenant_id,
                    "name": f"ingestion-{n:05}",
                    "source_uri": f"s3://landing/bench/{n}/",
                    "source_glob": "*.csv",
                    "credential_ref": "env:LANDING",
                    "format": FileFormat.CSV,
                    "format_options": {"sep": ";"},
                    "destination_catalog": "lake",
                    "destination_namespace": "bench",
                    "destination_table": f"t_{n}",
                    "partitioning": ["days(event_time)"],
                    "table_properties": {"write.format.default": "parquet"},
                    "schedule_cron": f"{n % 60} * * * *",
                }
                for n, ingestion_id in enumerate(ids)
            ],
        )
        IngestionStore(session).refresh_documents(ids)  # a Core insert renders no document
    # A table that has been in use has statistics and a visibility map (autovacuum's work);
    # a freshly filled one would be planned blind within the benchmark's minute. A VACUUM
    # right after the insert can leave every page not all-visible (a transaction still open
    # elsewhere on the server holds the horizon back), so it is repeated until the map is set.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for _ in range(40):
            connection.execute(text("VACUUM ANALYZE ingestions"))
            pages, visible = connection.execute(
                text("SELECT relpages, relallvisible FROM pg_class WHERE relname = 'ingestions'")
            ).one()
            if visible >= pages:
                break
            time.sleep(0.25)
    engine.dispose()
    return plaintext, [str(i) for i in ids]


def start_api(
    stack: dict[str, str], database: str, log: Path, workers: int
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(os.path.abspath(p) for p in sys.path if p),
        "AUTOLOADER_ENVIRONMENT": "test",
        "AUTOLOADER_DATABASE_URL": database,
        "AUTOLOADER_WORK_POOL": f"bench-api-{uuid.uuid4().hex[:6]}",
        "PREFECT_API_URL": stack["PREFECT_API_URL"],
        # One tenant holds every stored ingestion of the benchmark: above the default limit.
        "AUTOLOADER_TENANT_MAX_INGESTIONS": "1000000",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "autoloader_api.main",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the API exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/ready", timeout=5).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"the API was not ready:\n{log.read_text()[-3000:]}")


class Connection:
    """One keep-alive HTTP/1.1 connection with just enough parsing to time GETs: a load
    generator light enough that, on these two cores, the API and not the client is measured
    (httpx's async pool costs more per request than the API's /health does)."""

    def __init__(self, host: str, port: int, key: str) -> None:
        self.host, self.port = host, port
        self.header = f"Host: {host}:{port}\r\nAuthorization: Bearer {key}\r\n\r\n".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(f"GET {path} HTTP/1.1\r\n".encode() + self.header)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        length = next(
            int(line.split(":", 1)[1])
            for line in lines
            if line.lower().startswith("content-length:")
        )
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def load(
    base: str, key: str, path_of: Callable[[], str], seconds: float, clients: int = CLIENTS
) -> tuple[list[float], float]:
    """Latencies (ms) of `clients` closed-loop clients for `seconds`; and the requests/s."""
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    async def one_client() -> None:
        connection = Connection(host, int(port), key)
        try:
            while time.monotonic() < stop:
                started = time.perf_counter()
                status, body = await connection.get(path_of())
                latencies.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    raise RuntimeError(f"{status}: {body[:300]!r}")
        finally:
            connection.close()

    began = time.monotonic()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    return latencies, len(latencies) / (time.monotonic() - began)


async def creates(
    base: str, key: str, count: int, prefix: str = "created", concurrency: int = 1
) -> list[float]:
    latencies: list[float] = []
    semaphore = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as client:

        async def create(n: int) -> None:
            body: dict[str, Any] = {
                "name": f"{prefix}-{n:05}",
                "source": {"uri": f"s3://landing/created/{n}/", "credential_ref": "env:LANDING"},
                "format": {"type": "json"},
                "destination": {"catalog": "lake", "namespace": "bench", "table": f"{prefix}_{n}"},
                "schedule": {"cron": f"{n % 60} * * * *"},
            }
            async with semaphore:
                started = time.perf_counter()
                response = await client.post("/api/v1/ingestions", json=body)
                latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code != 201:
                raise RuntimeError(f"create: {response.status_code}: {response.text[:300]}")

        await asyncio.gather(*(create(n) for n in range(count)))
    return latencies


async def mixed(
    base: str, key: str, path_of: Callable[[], str], shared: list[str], seconds: float
) -> tuple[list[float], list[float], list[float], dict[int, int]]:
    """45 closed-loop clients list while 5 change a handful of shared ingestions (schedules,
    pause and resume, one write after another each) and /health is polled every 50 ms.
    Returns list, write and health latencies (ms), and the writes' statuses counted."""
    host, port = base.removeprefix("http://").split(":")
    stop = time.monotonic() + seconds
    listed: list[float] = []
    written: list[float] = []
    health: list[float] = []
    statuses: dict[int, int] = {}

    async def reader() -> None:
        connection = Connection(host, int(port), key)
        try:
            while time.monotonic() < stop:
                started = time.perf_counter()
                status, body = await connection.get(path_of())
                listed.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    raise RuntimeError(f"{status}: {body[:300]!r}")
        finally:
            connection.close()

    async def writer(n: int) -> None:
        rng = random.Random(n)
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=90) as client:
            while time.monotonic() < stop:
                target = f"/api/v1/ingestions/{rng.choice(shared)}"
                action = rng.choice(["schedule", "schedule", "pause", "resume"])
                started = time.perf_counter()
                if action == "schedule":
                    cron = f"{rng.randrange(60)} {rng.randrange(24)} * * *"
                    answer = await client.patch(f"{target}/schedule", json={"cron": cron})
                else:
                    answer = await client.post(f"{target}/{action}")
                written.append((time.perf_counter() - started) * 1000)
                statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1

    async def poll_health() -> None:
        connection = Connection(host, int(port), key)
        try:
            while time.monotonic() < stop:
                started = time.perf_counter()
                status, _ = await connection.get("/health")
                health.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    raise RuntimeError(f"/health answered {status}")
                await asyncio.sleep(0.05)
        finally:
            connection.close()

    await asyncio.gather(
        *(reader() for _ in range(READERS)), *(writer(n) for n in range(5)), poll_health()
    )
    return listed, written, health, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter runs, 20 creates")
    parser.add_argument("--workers", type=int, default=2, help="API worker processes")
    args = parser.parse_args()
    stored, seconds, created = 1000, (5 if args.quick else 20), (20 if args.quick else 100)
    with services("postgres", "prefect") as stack:
        database = fresh_database(stack["AUTOLOADER_DATABASE_URL"])
        command.upgrade(alembic_config(database), "head")
        key, ids = seed(database, stored)
        log = Path(tempfile.mkdtemp(prefix="bench-api-")) / "api.log"
        api, base = start_api(stack, database, log, args.workers)
        try:
            paths: dict[str, Callable[[], str]] = {
                "health": lambda: "/health",
                "list": lambda: f"/api/v1/ingestions?limit=50&offset={random.randrange(0, stored, 50)}",
                "get": lambda: f"/api/v1/ingestions/{random.choice(ids)}",
            }
            for path in paths.values():  # warm up: the steady state is what is measured
                asyncio.run(load(base, key, path, 1))
            health, health_rps = asyncio.run(load(base, key, paths["health"], seconds))
            listed, rps = asyncio.run(load(base, key, paths["list"], seconds))
            got, get_rps = asyncio.run(load(base, key, paths["get"], seconds))
            asyncio.run(creates(base, key, 1, prefix="warmup"))  # the pool and queues made
            made = asyncio.run(creates(base, key, created))
            shared = ids[:5]
            m_list, m_write, m_health, m_statuses = asyncio.run(
                mixed(base, key, paths["list"], shared, seconds)
            )
        finally:
            api.terminate()
            api.wait(30)
            drop_database(database)
    print(
        f"{stored} ingestions stored, {CLIENTS} clients, {args.workers} API processes: "
        f"list {len(listed)} requests, get {len(got)} ({get_rps:.0f}/s), health {len(health)}, "
        f"{created} creates; mixed: {len(m_list)} lists, {len(m_write)} writes "
        f"(statuses {dict(sorted(m_statuses.items()))}) on {len(shared)} shared ingestions"
    )
    unexpected = {code: n for code, n in m_statuses.items() if code not in (200, 409, 412)}
    if unexpected:
        raise SystemExit(f"mixed writes answered {unexpected}; see {log}")
    print(
        f"RESULT api list_p50_ms={percentile(listed, 0.5):.1f} "
        f"list_p99_ms={percentile(listed, 0.99):.1f} get_p99_ms={percentile(got, 0.99):.1f} "
        f"create_p95_ms={percentile(made, 0.95):.1f} rps={rps:.0f} "
        f"baseline_health_p99_ms={percentile(health, 0.99):.1f} baseline_health_rps={health_rps:.0f} "
        f"list_ratio={percentile(health, 0.99) / percentile(listed, 0.99):.2f} "
        f"mixed_list_p99_ms={percentile(m_list, 0.99):.1f} "
        f"mixed_list_rps={len(m_list) / seconds:.0f} "
        # Little's law: closed-loop clients wait clients/throughput on average, whatever the
        # server does; the p99 cannot be below this mean.
        f"mixed_list_floor_mean_ms={READERS / (len(m_list) / seconds) * 1000:.1f} "
        f"mixed_write_p95_ms={percentile(m_write, 0.95):.1f} "
        f"health_p99_ms={percentile(m_health, 0.99):.1f}"
    )


if __name__ == "__main__":
    main()
