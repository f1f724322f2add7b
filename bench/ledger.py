"""./dev bench ledger [--quick]: recording a listing against a large ledger, set-based vs naive.

A ledger already holds EXISTING rows for one ingestion; a listing of LISTED paths arrives of which
1% are new. Ours: FileLedger.record_listing (COPY + one anti-join INSERT). Baseline: what an ORM
user writes first, one SELECT per listed path and an INSERT for each missing one. Both run on the
same data in the same run, each in a transaction that is rolled back afterwards.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from _stack import services
from alembic import command
from autoloader_metadata.db import alembic_config, make_engine, session_factory, transaction
from autoloader_metadata.enums import FileFormat, FileStatus, RewrittenFilePolicy
from autoloader_metadata.ledger import FileLedger, ListedFile
from autoloader_metadata.models import LedgerFile
from autoloader_metadata.repositories import TenantRepository
from autoloader_model.ingestion import spec_of_columns
from autoloader_model.store import IngestionStore
from sqlalchemy import Engine, create_engine, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NEW_FRACTION = 0.01


def path_of(index: int) -> str:
    return f"events/year=2026/day={index % 365:03d}/part-{index:08d}.parquet"


def listed(index: int) -> ListedFile:
    return ListedFile(
        path_of(index), 1024 + index % 4096, f"etag-{index}", T0 + timedelta(seconds=index)
    )


def listing(existing: int, size: int) -> Iterator[ListedFile]:
    """`size` paths: evenly spread over the existing ones, then 1% beyond them (new)."""
    new = int(size * NEW_FRACTION)
    stride = existing // (size - new)
    for i in range(size - new):
        yield listed(i * stride)
    for i in range(new):
        yield listed(existing + i)


def fresh_database(url: str) -> str:
    base = make_url(url)
    name = f"bench_ledger_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    base = make_url(url)
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{base.database}" WITH (FORCE)'))
    admin.dispose()


def seed(engine: Engine, existing: int) -> uuid.UUID:
    sessions = session_factory(engine)
    with transaction(sessions) as session:
        tenant = TenantRepository(session).create("bench")
        ingestion = IngestionStore(session).create(
            tenant.id,
            spec_of_columns(
                name="events",
                source_uri="s3://landing/events/",
                format=FileFormat.PARQUET,
                destination_catalog="lake",
                destination_namespace="bench",
                destination_table=f"events_{uuid.uuid4().hex[:8]}",
            ),
        )
        driver: Any = session.connection().connection.driver_connection
        with driver.cursor() as cursor, cursor.copy(
            "COPY files (ingestion_id, path, size, etag, modified_at, status) FROM STDIN"
        ) as copy:
            for i in range(existing):
                item = listed(i)
                copy.write_row(
                    (ingestion.id, item.path, item.size, item.etag, item.modified_at, "loaded")
                )
    with engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE files"))
    return ingestion.id


def reset_peak_rss() -> None:
    """Restarts the process's RSS high-water mark (Linux), so the next peak is one step's own."""
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")


def peak_rss_mb() -> float:
    """Peak resident memory since the last reset. (ru_maxrss would include the PEX bootstrap
    that exec'd this interpreter.)"""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def ours(session: Session, ingestion: uuid.UUID, items: Iterator[ListedFile]) -> int:
    diff = FileLedger(session).record_listing(ingestion, items, RewrittenFilePolicy.IGNORE)
    return len(diff.new)


def naive(session: Session, ingestion: uuid.UUID, items: Iterator[ListedFile]) -> int:
    new = 0
    for item in items:
        seen = session.scalar(
            select(LedgerFile.id).where(
                LedgerFile.ingestion_id == ingestion, LedgerFile.path == item.path
            )
        )
        if seen is None:
            session.add(
                LedgerFile(
                    ingestion_id=ingestion,
                    path=item.path,
                    size=item.size,
                    etag=item.etag,
                    modified_at=item.modified_at,
                    status=FileStatus.DISCOVERED,
                )
            )
            new += 1
    session.flush()
    return new


def timed(
    engine: Engine, run: Any, ingestion: uuid.UUID, items: Iterator[ListedFile]
) -> tuple[float, int]:
    with session_factory(engine)() as session:
        started = time.perf_counter()
        found = int(run(session, ingestion, items))
        elapsed = time.perf_counter() - started
        session.rollback()
    return elapsed, found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="100k ledger rows, 10k listed")
    args = parser.parse_args()
    existing, size = (100_000, 10_000) if args.quick else (1_000_000, 100_000)
    expected_new = int(size * NEW_FRACTION)

    with services("postgres") as settings:
        url = fresh_database(settings["AUTOLOADER_DATABASE_URL"])
        engine = make_engine(url, pool_size=2)
        try:
            command.upgrade(alembic_config(url), "head")
            started = time.perf_counter()
            ingestion = seed(engine, existing)
            print(
                f"seeded {existing:,} ledger rows in {time.perf_counter() - started:.1f} s; "
                f"listing {size:,} paths, {expected_new:,} new",
                flush=True,
            )
            # Warm both paths' caches alike, then measure ours first so its peak memory is its own.
            timed(engine, ours, ingestion, listing(existing, min(size, 1000)))
            reset_peak_rss()
            seconds, found = timed(engine, ours, ingestion, listing(existing, size))
            peak_mb = peak_rss_mb()
            naive_seconds, naive_found = timed(engine, naive, ingestion, listing(existing, size))
        finally:
            engine.dispose()
            drop_database(url)

    if found != expected_new or naive_found != expected_new:
        print(f"wrong answer: ours found {found}, naive {naive_found}, expected {expected_new}")
        return 1
    print(
        f"RESULT ledger seconds={seconds:.3f} naive_seconds={naive_seconds:.3f} "
        f"ratio={naive_seconds / seconds:.1f} peak_mb={peak_mb:.0f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
