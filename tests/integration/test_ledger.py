"""The file ledger on a real PostgreSQL: discovery diffs, atomic claims, outcomes, recovery."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path

import ledger_workers
import pytest
from autoloader_metadata.db import make_engine, session_factory, transaction
from autoloader_metadata.enums import BatchStatus, FileFormat, FileStatus, RewrittenFilePolicy
from autoloader_metadata.errors import Conflict, Invalid, NotFound
from autoloader_metadata.failures import ErrorCategory, FileFailure
from autoloader_metadata.ledger import FileLedger, ListedFile
from autoloader_metadata.models import Batch, LedgerFile
from autoloader_metadata.repositories import TenantRepository
from autoloader_model.ingestion import spec_of_columns
from autoloader_model.spec import IngestionSpec
from autoloader_model.store import IngestionStore
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker
from support import StackFactory, create_ingestion, migrated_database

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def transient(reason: str) -> FileFailure:
    return FileFailure(ErrorCategory.TRANSIENT, reason)


@pytest.fixture(scope="module")
def database(services: StackFactory) -> Iterator[tuple[str, Engine]]:
    url = migrated_database(services("postgres")["AUTOLOADER_DATABASE_URL"], "it_ledger")
    engine = make_engine(url)
    yield url, engine
    engine.dispose()


@pytest.fixture
def sessions(database: tuple[str, Engine]) -> sessionmaker[Session]:
    return session_factory(database[1])


def new_ingestion(sessions: sessionmaker[Session], **fields: object) -> uuid.UUID:
    ingestion: uuid.UUID = create_ingestion(sessions, **fields)
    return ingestion


def orders_spec() -> IngestionSpec:
    return spec_of_columns(
        name="orders",
        source_uri="s3://landing/orders/",
        format=FileFormat.CSV,
        destination_catalog="lake",
        destination_namespace="sales",
        destination_table=f"orders_{uuid.uuid4().hex[:8]}",  # a table has one owner
    )


def listing(count: int, start: int = 0, size: int = 100, etag: str = "v1") -> list[ListedFile]:
    return [
        ListedFile(f"orders/{i:06d}.csv", size, f"{etag}-{i}", T0 + timedelta(seconds=i))
        for i in range(start, start + count)
    ]


def record(
    sessions: sessionmaker[Session],
    ingestion: uuid.UUID,
    files: list[ListedFile],
    policy: RewrittenFilePolicy = RewrittenFilePolicy.IGNORE,
) -> tuple[set[str], set[str]]:
    with transaction(sessions) as session:
        diff = FileLedger(session).record_listing(ingestion, files, policy)
    return {e.path for e in diff.new}, {e.path for e in diff.rewritten}


# -- ingestions ---------------------------------------------------------------------------


def test_a_duplicate_ingestion_name_is_a_conflict(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        tenant = TenantRepository(session).create(f"t-{uuid.uuid4().hex[:8]}")
        other = TenantRepository(session).create(f"t-{uuid.uuid4().hex[:8]}")
        store = IngestionStore(session)
        store.create(tenant.id, orders_spec())

        with pytest.raises(Conflict, match="an ingestion named 'orders' already exists"):
            store.create(tenant.id, orders_spec())
        # The session stays usable, and another tenant may use the name.
        assert store.create(other.id, orders_spec()).name == "orders"


def test_an_unknown_tenant_is_refused(sessions: sessionmaker[Session]) -> None:
    missing = uuid.uuid4()
    with transaction(sessions) as session, pytest.raises(Invalid, match=str(missing)):
        IngestionStore(session).create(missing, orders_spec())


def test_another_tenants_ingestion_is_not_found(sessions: sessionmaker[Session]) -> None:
    ingestion = new_ingestion(sessions)
    with transaction(sessions) as session:
        stranger = TenantRepository(session).create(f"t-{uuid.uuid4().hex[:8]}")
        with pytest.raises(NotFound):
            IngestionStore(session).get(stranger.id, ingestion)


# -- discovery ----------------------------------------------------------------------------


def test_a_listing_returns_only_the_files_not_seen_before(sessions: sessionmaker[Session]) -> None:
    ingestion = new_ingestion(sessions)

    first, _ = record(sessions, ingestion, listing(50))
    second, _ = record(sessions, ingestion, listing(52))

    assert len(first) == 50
    assert second == {"orders/000050.csv", "orders/000051.csv"}


def test_a_rewritten_object_is_returned_only_under_the_reload_policy(
    sessions: sessionmaker[Session],
) -> None:
    ingestion = new_ingestion(sessions)
    record(sessions, ingestion, listing(3))
    rewritten = listing(3)
    rewritten[1] = ListedFile(rewritten[1].path, 100, "v2-1", T0 + timedelta(days=1))
    resized = ListedFile(rewritten[2].path, 999, rewritten[2].etag, rewritten[2].modified_at)
    rewritten[2] = resized

    ignored_new, ignored = record(sessions, ingestion, rewritten, RewrittenFilePolicy.IGNORE)
    reload_new, reloaded = record(sessions, ingestion, rewritten, RewrittenFilePolicy.RELOAD)
    again_new, again = record(sessions, ingestion, rewritten, RewrittenFilePolicy.RELOAD)

    assert (ignored_new, ignored) == (set(), set())
    assert reload_new == set()
    assert reloaded == {"orders/000001.csv", "orders/000002.csv"}
    assert again == set() and again_new == set()


# -- claiming -----------------------------------------------------------------------------


def test_a_claim_respects_the_file_and_byte_bounds(sessions: sessionmaker[Session]) -> None:
    ingestion = new_ingestion(sessions)
    files = listing(10, size=100)
    files.insert(0, ListedFile("orders/huge.csv", 10_000, "h", T0 - timedelta(days=1)))
    record(sessions, ingestion, files)

    with transaction(sessions) as session:
        ledger = FileLedger(session)
        huge = ledger.claim_batch(ingestion, max_files=5, max_bytes=350)
        by_bytes = ledger.claim_batch(ingestion, max_files=5, max_bytes=350)
        by_count = ledger.claim_batch(ingestion, max_files=2, max_bytes=10**9)

    assert huge is not None and [f.path for f in huge.files] == ["orders/huge.csv"]
    assert by_bytes is not None and len(by_bytes.files) == 3 and by_bytes.byte_count == 300
    assert by_count is not None and len(by_count.files) == 2


def test_two_processes_claiming_at_once_never_share_a_file(
    sessions: sessionmaker[Session], database: tuple[str, Engine]
) -> None:
    ingestion = new_ingestion(sessions)
    record(sessions, ingestion, listing(3000))

    with ProcessPoolExecutor(max_workers=2, mp_context=get_context("spawn")) as pool:
        futures = [
            pool.submit(ledger_workers.claim_until_empty, database[0], str(ingestion), 7)
            for _ in range(2)
        ]
        first, second = (future.result(timeout=300) for future in futures)

    assert first and second, "both processes should have claimed some files"
    assert set(first).isdisjoint(second)
    assert len(first) + len(second) == 3000
    with transaction(sessions) as session:
        assert FileLedger(session).counts(ingestion) == {FileStatus.CLAIMED: 3000}


# -- outcomes and recovery ----------------------------------------------------------------


def test_loaded_files_record_rows_and_marking_twice_changes_nothing(
    sessions: sessionmaker[Session],
) -> None:
    ingestion = new_ingestion(sessions)
    record(sessions, ingestion, listing(4))
    with transaction(sessions) as session:
        batch = FileLedger(session).claim_batch(ingestion, 10, 10**9)
    assert batch is not None
    rows = {file.id: 10 + index for index, file in enumerate(batch.files)}

    with transaction(sessions) as session:
        first = FileLedger(session).mark_batch_loaded(batch.id, 42, rows)
    with transaction(sessions) as session:
        second = FileLedger(session).mark_batch_loaded(batch.id, 42, rows)
        stored = session.get(Batch, batch.id)
        assert stored is not None
        assert (stored.status, stored.snapshot_id, stored.row_count) == (
            BatchStatus.LOADED,
            42,
            sum(rows.values()),
        )

    assert (first, second) == (4, 0)


def test_a_file_that_keeps_failing_stops_being_retried(sessions: sessionmaker[Session]) -> None:
    ingestion = new_ingestion(sessions)
    record(sessions, ingestion, listing(1))
    reasons = []
    for attempt in range(3):
        with transaction(sessions) as session:
            ledger = FileLedger(session)
            batch = ledger.claim_batch(ingestion, 10, 10**9, max_attempts=3)
            assert batch is not None, f"attempt {attempt + 1} should get the file"
            ledger.mark_files_failed(batch.id, {batch.files[0].id: transient(f"timeout {attempt}")})
            reasons.append(batch.files[0].attempts)

    with transaction(sessions) as session:
        ledger = FileLedger(session)
        assert ledger.claim_batch(ingestion, 10, 10**9, max_attempts=3) is None
        assert ledger.counts(ingestion) == {FileStatus.FAILED: 1}
        assert ledger.reprocess(ingestion, path_glob="orders/*.csv") == 1
        assert ledger.claim_batch(ingestion, 10, 10**9, max_attempts=3) is not None
    assert reasons == [0, 1, 2]


def test_a_deterministic_failure_uses_up_the_attempts_at_once(
    sessions: sessionmaker[Session],
) -> None:
    ingestion = new_ingestion(sessions)
    record(sessions, ingestion, listing(2))
    with transaction(sessions) as session:
        ledger = FileLedger(session)
        batch = ledger.claim_batch(ingestion, 10, 10**9, max_attempts=5)
        assert batch is not None
        bad, slow = batch.files
        ledger.mark_files_failed(
            batch.id,
            {
                bad.id: FileFailure(ErrorCategory.MALFORMED, "EOFException: truncated gzip"),
                slow.id: transient("read timed out"),
            },
            max_attempts=5,
        )
    with sessions() as session:
        rows = session.execute(
            select(
                LedgerFile.id, LedgerFile.attempts, LedgerFile.error_category, LedgerFile.last_error
            ).where(LedgerFile.ingestion_id == ingestion)
        ).all()
    by_id = {r.id: r for r in rows}
    assert (by_id[bad.id].attempts, by_id[bad.id].error_category) == (5, "malformed")
    assert by_id[bad.id].last_error == "EOFException: truncated gzip"
    assert (by_id[slow.id].attempts, by_id[slow.id].error_category) == (1, "transient")
    with transaction(sessions) as session:
        again = FileLedger(session).claim_batch(ingestion, 10, 10**9, max_attempts=5)
    assert again is not None and [f.id for f in again.files] == [slow.id]


def test_a_split_batch_hands_its_files_to_parts_of_the_same_run(
    sessions: sessionmaker[Session],
) -> None:
    ingestion = new_ingestion(sessions)
    record(sessions, ingestion, listing(5))
    run = uuid.uuid4()
    with transaction(sessions) as session:
        ledger = FileLedger(session)
        batch = ledger.claim_batch(ingestion, 10, 10**9, flow_run_id=run)
        assert batch is not None
        ids = [f.id for f in batch.files]
        parts = ledger.split_batch(batch.id, [ids[:2], ids[2:]], "an error naming no file")
    with sessions() as session:
        batches = {
            b.id: b for b in session.scalars(select(Batch).where(Batch.ingestion_id == ingestion))
        }
        files = {
            f.id: f
            for f in session.scalars(select(LedgerFile).where(LedgerFile.ingestion_id == ingestion))
        }
    assert batches[batch.id].status is BatchStatus.SPLIT
    assert [batches[p].file_count for p in parts] == [2, 3]
    assert all(batches[p].parent_id == batch.id and batches[p].flow_run_id == run for p in parts)
    assert all(batches[p].status is BatchStatus.CLAIMED for p in parts)
    assert [files[i].batch_id for i in ids] == [parts[0]] * 2 + [parts[1]] * 3
    assert all(files[i].status is FileStatus.CLAIMED for i in ids)
    with transaction(sessions) as session, pytest.raises(Conflict):
        FileLedger(session).split_batch(batch.id, [ids], "twice")


def test_a_run_does_not_retry_at_once_a_file_that_failed_in_it(
    sessions: sessionmaker[Session],
) -> None:
    ingestion = new_ingestion(sessions)
    record(sessions, ingestion, listing(1))
    with transaction(sessions) as session:
        run_started = session.execute(text("SELECT now()")).scalar_one()
    with transaction(sessions) as session:
        ledger = FileLedger(session)
        batch = ledger.claim_batch(ingestion, 10, 10**9, failed_before=run_started)
        assert batch is not None
        ledger.mark_files_failed(batch.id, {batch.files[0].id: transient("timeout")})
    with transaction(sessions) as session:
        ledger = FileLedger(session)
        assert ledger.claim_batch(ingestion, 10, 10**9, failed_before=run_started) is None
        next_run = session.execute(text("SELECT clock_timestamp()")).scalar_one()
        again = ledger.claim_batch(ingestion, 10, 10**9, failed_before=next_run)
        assert again is not None and again.files[0].attempts == 1


def test_reprocess_selects_by_glob_and_status(sessions: sessionmaker[Session]) -> None:
    ingestion = new_ingestion(sessions)
    record(
        sessions,
        ingestion,
        [
            ListedFile("year=2026/a_1.csv", 1, "a", T0),
            ListedFile("year=2025/b.csv", 1, "b", T0),
            ListedFile("year=2026/c.json", 1, "c", T0),
        ],
    )
    with transaction(sessions) as session:
        ledger = FileLedger(session)
        batch = ledger.claim_batch(ingestion, 10, 10**9)
        assert batch is not None
        ledger.mark_batch_loaded(batch.id, 1, {file.id: 1 for file in batch.files})
        loaded = [FileStatus.LOADED]
        assert ledger.reprocess(ingestion, loaded, path_glob="year=2026/*.csv", dry_run=True) == 1
        assert ledger.reprocess(ingestion, loaded, path_glob="year=2026/a?1.csv") == 1
        assert ledger.reprocess(ingestion, loaded, path_glob="*.csv") == 1  # b only; a is done
        assert ledger.counts(ingestion) == {FileStatus.DISCOVERED: 2, FileStatus.LOADED: 1}


def test_a_claim_abandoned_by_a_killed_process_is_released_and_loaded_once(
    sessions: sessionmaker[Session], database: tuple[str, Engine]
) -> None:
    ingestion = new_ingestion(sessions)
    record(sessions, ingestion, listing(20))
    run_id = uuid.uuid4()
    worker = subprocess.Popen(
        [
            sys.executable,
            Path(ledger_workers.__file__).as_posix(),
            database[0],
            str(ingestion),
            str(run_id),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert worker.stdout is not None
    dead_batch = uuid.UUID(worker.stdout.readline().strip())
    worker.kill()
    worker.wait(timeout=30)

    with transaction(sessions) as session:
        ledger = FileLedger(session)
        assert ledger.claim_batch(ingestion, 100, 10**9) is None  # all 20 are still claimed
        assert ledger.batches_of_runs([run_id]) == [dead_batch]
        assert ledger.release_batch(dead_batch, "flow run crashed") == 20
    with transaction(sessions) as session:
        ledger = FileLedger(session)
        batch = ledger.claim_batch(ingestion, 100, 10**9)
        assert batch is not None and len(batch.files) == 20
        ledger.mark_batch_loaded(batch.id, 7, {file.id: 1 for file in batch.files})
    with transaction(sessions) as session:
        ledger = FileLedger(session)
        with pytest.raises(Conflict, match="released by recovery"):
            ledger.mark_batch_loaded(dead_batch, 6, {})
        loaded_rows = session.scalar(
            select(func.count())
            .select_from(Batch)
            .where(Batch.status == BatchStatus.LOADED, Batch.ingestion_id == ingestion)
        )
        assert ledger.counts(ingestion) == {FileStatus.LOADED: 20}
        assert loaded_rows == 1
