"""./dev bench discovery [--quick]: finding the new files in a large bucket, against a raw listing.

A bucket prefix in the S3 store holds OBJECTS objects over 30 dated folders; the ledger already
knows all but the newest 1%. Baseline: s3fs's `find` of the prefix (a raw recursive listing, no
filtering, no bookkeeping). Ours: discover() = a paginated listing with the ingestion's rules,
streamed into the ledger's set-based diff. Also: discover() in start-after mode, listing only the
keys after the last one seen. Each is measured three times, alternating; medians are reported.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from _stack import s3_filesystem, services
from alembic import command
from autoloader_discovery.discover import discover
from autoloader_metadata.db import alembic_config, make_engine, session_factory, transaction
from autoloader_metadata.enums import FileFormat, ListingMode
from autoloader_metadata.models import DiscoveryState
from autoloader_metadata.repositories import TenantRepository
from autoloader_model.ingestion import Ingestion, spec_of_columns
from autoloader_model.store import IngestionStore
from ledger import drop_database, fresh_database, peak_rss_mb, reset_peak_rss
from sqlalchemy.orm import Session, sessionmaker

DAYS = 30
NEW_FRACTION = 0.01
LATER = datetime.now(UTC) + timedelta(hours=1)


def key_of(index: int, total: int) -> str:
    """Existing objects spread over days 1-29 in order; the new ones all land on day 30."""
    day = 1 + index * (DAYS - 1) // total if index < total else DAYS
    return f"dt=2026-11-{day:02d}/part-{index:07d}.json"


def upload(fs: Any, root: str, keys: list[str]) -> None:
    for start in range(0, len(keys), 2000):
        fs.pipe({f"{root}/{key}": b'{"v": 1}\n' for key in keys[start : start + 2000]})


def new_ingestion(sessions: sessionmaker[Session], uri: str, mode: ListingMode) -> Ingestion:
    with transaction(sessions) as session:
        tenant = TenantRepository(session).create(f"bench-{uuid.uuid4().hex[:6]}")
        ingestion = IngestionStore(session).create(
            tenant.id,
            spec_of_columns(
                name="events",
                source_uri=uri,
                credential_ref="env:BENCH_S3",
                format=FileFormat.JSON,
                destination_catalog="lake",
                destination_namespace="bench",
                destination_table=f"events_{uuid.uuid4().hex[:8]}",
                listing_mode=mode,
                full_listing_every=1000,
            ),
        )
    return ingestion


def median_seconds(run: Callable[[], int], repeats: int) -> tuple[float, int]:
    times, found = [], 0
    for _ in range(repeats):
        started = time.perf_counter()
        found = run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="5k objects instead of 100k")
    args = parser.parse_args()
    total = 5_000 if args.quick else 100_000
    new = int(total * NEW_FRACTION)
    existing = total - new

    with services("postgres", "s3") as settings:
        environ = {
            "BENCH_S3_ACCESS_KEY_ID": settings["AUTOLOADER_S3_ACCESS_KEY"],
            "BENCH_S3_SECRET_ACCESS_KEY": settings["AUTOLOADER_S3_SECRET_KEY"],
            "BENCH_S3_ENDPOINT_URL": settings["AUTOLOADER_S3_ENDPOINT"],
        }
        root = f"{settings['AUTOLOADER_LANDING_BUCKET']}/bench-{uuid.uuid4().hex[:8]}"
        uri = f"s3://{root}"
        url = fresh_database(settings["AUTOLOADER_DATABASE_URL"])
        engine = make_engine(url, pool_size=2)
        fs = s3_filesystem(settings)
        try:
            command.upgrade(alembic_config(url), "head")
            sessions = session_factory(engine)
            started = time.perf_counter()
            upload(fs, root, [key_of(i, existing) for i in range(existing)])
            full = new_ingestion(sessions, uri, ListingMode.FULL)
            after = new_ingestion(sessions, uri, ListingMode.START_AFTER)
            for ingestion in (full, after):  # the ledgers learn the existing objects
                with transaction(sessions) as session:
                    discover(session, ingestion, LATER, environ)
            upload(fs, root, [key_of(existing + i, existing) for i in range(new)])
            print(
                f"seeded {total:,} objects ({new:,} new) in {time.perf_counter() - started:.0f} s",
                flush=True,
            )

            def raw() -> int:
                return len(s3_filesystem(settings, skip_instance_cache=True).find(root))

            def ours(ingestion: Ingestion) -> Callable[[], int]:
                def run() -> int:
                    with sessions() as session:
                        result = discover(session, ingestion, LATER, environ)
                        session.rollback()  # the same new files every repeat
                    return len(result.new)

                return run

            repeats = 3
            raw_times, ours_times = [], []
            found = raw_found = 0
            peak_mb = 0.0
            for repeat in range(repeats):  # alternate, so drift on a noisy machine hits both
                reset_peak_rss()
                seconds, found = median_seconds(ours(full), 1)
                ours_times.append(seconds)
                if repeat == 0:  # before raw find's 100k dicts inflate the process
                    peak_mb = peak_rss_mb()
                seconds, raw_found = median_seconds(raw, 1)
                raw_times.append(seconds)
            after_seconds, after_found = median_seconds(ours(after), repeats)
            with sessions() as session:
                state = session.get(DiscoveryState, after.id)
                assert state is not None and state.last_key is not None
        finally:
            engine.dispose()
            drop_database(url)
            fs.rm(root, recursive=True)

    raw_seconds, seconds = statistics.median(raw_times), statistics.median(ours_times)
    if raw_found != total or found != new or after_found != new:
        print(
            f"wrong answer: raw {raw_found}/{total}, ours {found}/{new}, after {after_found}/{new}"
        )
        return 1
    print(
        f"RESULT discovery objects={total} new={new} raw_seconds={raw_seconds:.3f} "
        f"seconds={seconds:.3f} ratio={seconds / raw_seconds:.2f} peak_mb={peak_mb:.0f} "
        f"start_after_seconds={after_seconds:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
