"""The work of run_ingestion's tasks: the metadata store, discovery, Spark and the ledger.

Kept out of the flow's module, which a run process imports before the run is RUNNING: these
imports (SQLAlchemy, fsspec, the Spark Connect client) take seconds, and are paid after.
"""

from __future__ import annotations

import logging
import sys
import uuid
from datetime import datetime, timedelta
from typing import Any

from autoloader_ingest.batches import BatchResult, load_claimed_batch, recover_batch
from autoloader_metadata.db import transaction
from autoloader_metadata.enums import FileStatus
from autoloader_metadata.ledger import FileLedger
from autoloader_metadata.models import DiscoveryState, LedgerFile
from autoloader_metadata.repositories import CredentialGrants
from autoloader_model.ingestion import Ingestion
from autoloader_model.store import IngestionStore
from autoloader_orchestration.heartbeat import Heartbeat
from pyspark.sql import SparkSession
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from autoloader_flows.context import sessions, settings
from autoloader_flows.reasons import reason_of
from autoloader_storage.cleanup import LoadedFile, SourceCleaner

MAX_FAILURES_LISTED = 20
Log = logging.Logger | logging.LoggerAdapter[Any]  # what Prefect's get_run_logger returns


MAX_WARNINGS_LOGGED = 20


def ingestion_of(ingestion_id: uuid.UUID) -> Ingestion:
    with sessions()() as session:
        ingestion = IngestionStore(session).find_live(ingestion_id)
    if ingestion is None:
        raise LookupError(f"ingestion {ingestion_id} does not exist")
    return ingestion


def spark_of(ingestion: Ingestion) -> SparkSession:
    from autoloader_spark.session import connect

    return connect(settings().spark_remote_of(ingestion.spec.cluster))


def close_spark() -> None:
    if "autoloader_spark.session" in sys.modules:  # only if this run opened a session
        from autoloader_spark.session import close_all

        close_all()


def heartbeat(run_id: uuid.UUID, ingestion_id: uuid.UUID) -> Heartbeat:
    return Heartbeat(sessions(), run_id, ingestion_id, settings().heartbeat_seconds)


def settle_dead_batches(ingestion_id: uuid.UUID, run_id: uuid.UUID, log: Log) -> int:
    """Batches of this ingestion still claimed by a run that no longer beats: each is marked
    loaded when its Iceberg commit happened, released otherwise."""
    stale = timedelta(seconds=settings().stale_run_seconds)
    with sessions()() as session:
        batch_ids = session.scalars(
            text(
                """
                SELECT b.id FROM batches b
                LEFT JOIN run_heartbeats h ON h.flow_run_id = b.flow_run_id
                WHERE b.ingestion_id = :ingestion AND b.status = 'claimed'
                  AND b.flow_run_id IS DISTINCT FROM :run
                  AND (h.flow_run_id IS NULL OR h.beat_at < now() - CAST(:stale AS interval))
                ORDER BY b.started_at
                """
            ),
            {"ingestion": ingestion_id, "run": run_id, "stale": f"{stale.total_seconds()} seconds"},
        ).all()
    if not batch_ids:
        return 0
    ingestion = ingestion_of(ingestion_id)
    spark = spark_of(ingestion)
    for batch_id in batch_ids:
        committed = recover_batch(sessions(), spark, ingestion, batch_id)
        log.info(
            "batch %s of a dead run: %s",
            batch_id,
            "was committed, marked loaded" if committed else "was not committed, files released",
        )
    return len(batch_ids)


def apply_full_refresh(ingestion_id: uuid.UUID, run_id: uuid.UUID, log: Log) -> bool:
    """A pending full refresh: deletes the rows of every batch loaded since the last one, then
    sends every file back to discovery and marks the request done. A crash in between leaves
    the request pending, and the next run deletes again (nothing left to delete) and resets."""
    from autoloader_ingest.batches import load_spec
    from autoloader_metadata.refresh import Refreshes

    from autoloader_spark.load import delete_batches

    with sessions()() as session:
        refreshes = Refreshes(session)
        pending = refreshes.pending(ingestion_id)
        if pending is None:
            return False
        cleaned = FileLedger(session).cleaned_count(ingestion_id)
        batch_ids = refreshes.loaded_batches(ingestion_id)
    if cleaned:
        # Asked for before cleanup removed them (the API refuses it after): deleting the rows
        # of files that cannot be read again would lose them.
        with transaction(sessions()) as session:
            Refreshes(session).withdraw(pending.id)
        log.warning(
            "full refresh withdrawn: source cleanup removed %d loaded files, which could not "
            "be loaded again; nothing was deleted",
            cleaned,
        )
        return False
    deleted = 0
    if batch_ids:  # nothing loaded yet: no Spark session to open
        ingestion = ingestion_of(ingestion_id)
        deleted = delete_batches(
            spark_of(ingestion), load_spec(ingestion), [str(b) for b in batch_ids]
        )
    with transaction(sessions()) as session:
        refreshes = Refreshes(session)
        request = refreshes.pending(ingestion_id, lock=True)
        if request is None:
            return False
        reset = refreshes.complete_full(request, deleted, run_id)
    log.info(
        "full refresh: deleted %d rows of %d batches, %d files to load again",
        deleted,
        len(batch_ids),
        reset,
    )
    return True


def ensure_credential_granted(ingestion: Ingestion) -> None:
    """Where grants are required, a run stops before it reads with a credential its tenant
    is not (or no longer) granted."""
    if not settings().credential_grants_required:
        return
    reference = ingestion.spec.source.credential_ref
    with sessions()() as session:
        allowed = CredentialGrants(session).allows(ingestion.tenant_id, reference)
    if not allowed:
        raise PermissionError(
            f"credential {(reference or 'default')!r} is not granted to the "
            "ingestion's tenant; an admin grants it, or the ingestion names another"
        )


def spark_access_of(ingestion: Ingestion) -> dict[str, str]:
    """The Hadoop settings with which Spark reads the ingestion's source: its own credential,
    resolved here on the worker (or none where the operator bound the cluster's identity).
    Raises SparkAccessRefused where Spark cannot be given that identity."""
    from autoloader_storage import credentials
    from autoloader_storage.reach import ReachPolicy
    from autoloader_storage.uri import parse_source_uri

    source = parse_source_uri(ingestion.spec.source.uri)
    connection = credentials.resolve(ingestion.spec.source.credential_ref, source.kind)
    return ReachPolicy.of(settings()).spark_access(source, connection, ingestion.spec.cluster)


def ensure_table_available(ingestion: Ingestion) -> None:
    """A run stops before it writes to a table its tenant does not own and was not shared
    (an ingestion created before tables had owners, or a table an admin gave away since)."""
    from autoloader_metadata.tables import TableNotAvailable, TableOwnership
    from autoloader_model.store import destination_of

    name = destination_of(ingestion.spec)
    with sessions()() as session:
        allowed = TableOwnership(session).allows(ingestion.tenant_id, name)
    if not allowed:
        raise PermissionError(str(TableNotAvailable(name)))


def discover_new_files(ingestion_id: uuid.UUID, log: Log) -> dict[str, Any]:
    from autoloader_discovery.discover import discover

    from autoloader_storage.reach import ReachPolicy

    ingestion = ingestion_of(ingestion_id)
    with transaction(sessions()) as session:
        result = discover(session, ingestion, reach=ReachPolicy.of(settings()))
    log.info(
        "listed %d files in %.1f s: %d new, %d rewritten%s",
        result.listed,
        result.seconds,
        len(result.new),
        len(result.rewritten),
        " (full listing)" if result.full_listing else "",
    )
    return {
        "listed": result.listed,
        "new": len(result.new),
        "rewritten": len(result.rewritten),
        "seconds": result.seconds,
    }


def clean_up_source(ingestion_id: uuid.UUID, log: Log) -> tuple[int, int]:
    """Deletes or moves the loaded files whose retention has passed (source.after_load);
    returns (cleaned, failed). The ledger is read and written in short transactions, the store
    is called outside them; a failure is recorded on its file for the next run and never
    raised: the files are loaded, and the run stands."""
    from autoloader_metadata.enums import AfterLoad
    from autoloader_metadata.refresh import Refreshes

    from autoloader_core.scrub import scrub

    ingestion = ingestion_of(ingestion_id)
    source_spec = ingestion.spec.source
    if source_spec.after_load is AfterLoad.KEEP:
        return 0, 0
    try:
        with sessions()() as session:
            if Refreshes(session).pending(ingestion_id) is not None:
                log.info("source cleanup waits: a full refresh will load every file again")
                return 0, 0
            candidates = FileLedger(session).cleanable(
                ingestion_id,
                timedelta(seconds=source_spec.retain_seconds),
                settings().cleanup_files_per_run,
            )
        if not candidates:
            return 0, 0
        cleaner = _cleaner_of(ingestion)
    except Exception as error:
        log.warning("source cleanup skipped this run: %s", scrub(f"{error}"))
        return 0, 0
    cleaned = failed = 0
    for file in candidates:
        loaded = LoadedFile(file.path, file.size, file.etag)
        moved_to: str | None = None
        try:
            if source_spec.after_load is AfterLoad.MOVE:
                moved_to = cleaner.move(loaded)
            else:
                cleaner.delete(loaded)
        except Exception as error:
            failed += 1
            reason = scrub(f"{type(error).__name__}: {error}")
            if failed <= MAX_WARNINGS_LOGGED:
                log.warning("cleanup of %s failed, retried next run: %s", file.path, reason)
            with transaction(sessions()) as session:
                FileLedger(session).mark_cleanup_failed(file.id, reason)
            continue
        with transaction(sessions()) as session:
            FileLedger(session).mark_cleaned(file.id, moved_to)
        cleaned += 1
    log.info(
        "source cleanup (%s): %d files done, %d failed", source_spec.after_load, cleaned, failed
    )
    return cleaned, failed


def _cleaner_of(ingestion: Ingestion) -> SourceCleaner:
    from autoloader_storage import credentials
    from autoloader_storage.reach import ReachPolicy
    from autoloader_storage.uri import parse_source_uri

    source_spec = ingestion.spec.source
    source = parse_source_uri(source_spec.uri)
    connection = credentials.resolve(source_spec.credential_ref, source.kind)
    ReachPolicy.of(settings()).check(source, connection)
    archive = parse_source_uri(source_spec.archive_uri) if source_spec.archive_uri else None
    return SourceCleaner(source, connection, archive)


def load_next_batch(
    ingestion_id: uuid.UUID, run_id: uuid.UUID, run_started_at: datetime, log: Log
) -> tuple[BatchResult, int] | None:
    """Claims the next batch and loads it; None when nothing is left to claim. Files that failed
    since `run_started_at` wait for the next run.

    If loading raises (Spark unreachable, a timeout), the batch is settled against the table
    before the task retries, so the retry claims its files again only if they were not committed.
    """
    ingestion = ingestion_of(ingestion_id)
    with transaction(sessions()) as session:
        batch = FileLedger(session).claim_batch(
            ingestion.id,
            ingestion.spec.batch.max_files,
            ingestion.spec.batch.max_bytes,
            run_id,
            max_attempts=settings().max_file_attempts,
            failed_before=run_started_at,
        )
    if batch is None:
        return None
    log.info("batch %s: %d files, %d bytes", batch.id, len(batch.files), batch.byte_count)
    spark = spark_of(ingestion)
    try:
        result = load_claimed_batch(
            sessions(),
            spark,
            ingestion,
            batch,
            settings().max_file_attempts,
            access=spark_access_of(ingestion),
        )
    except Exception:
        try:
            recover_batch(sessions(), spark, ingestion, batch.id)
        except Exception:
            log.warning(
                "batch %s stays claimed; the next run or reconciliation settles it", batch.id
            )
        raise
    log.info(
        "batch %s: %d files loaded (%d rows), %d failed%s",
        batch.id,
        result.loaded_files,
        result.rows,
        result.failed_files,
        f", in {result.parts} parts" if result.parts > 1 else "",
    )
    for warning in result.warnings[:MAX_WARNINGS_LOGGED]:
        log.warning("batch %s: %s", batch.id, warning)
    if len(result.warnings) > MAX_WARNINGS_LOGGED:
        log.warning(
            "batch %s: %d more warnings", batch.id, len(result.warnings) - MAX_WARNINGS_LOGGED
        )
    return result, batch.byte_count


def outcome_since(
    ingestion_id: uuid.UUID, since: datetime
) -> tuple[int, int, list[dict[str, str]]]:
    """Files still waiting, files that failed since `since` (each once, however many times it
    was tried), and the first of those with their reasons."""
    failed_since = (
        LedgerFile.ingestion_id == ingestion_id,
        LedgerFile.status == FileStatus.FAILED,
        LedgerFile.updated_at >= since,
    )
    with sessions()() as session:
        waiting = FileLedger(session).counts(ingestion_id).get(FileStatus.DISCOVERED, 0)
        failed = _count(session, failed_since)
        rows = session.execute(
            select(LedgerFile.path, LedgerFile.last_error, LedgerFile.error_category)
            .where(*failed_since)
            .order_by(LedgerFile.path)
            .limit(MAX_FAILURES_LISTED)
        ).all()
    return (
        waiting,
        failed,
        [
            {"path": r.path, "category": r.error_category or "", "error": r.last_error or ""}
            for r in rows
        ],
    )


def failure_reasons(ingestion_id: uuid.UUID, since: datetime) -> dict[str, int]:
    """The files that failed since `since`, counted by category (a run tries a failed file
    once, so each counts once per run)."""
    head = func.split_part(LedgerFile.last_error, ":", 1)  # for a failure recorded before 0009
    with sessions()() as session:
        rows = session.execute(
            select(LedgerFile.error_category, head, func.count())
            .where(
                LedgerFile.ingestion_id == ingestion_id,
                LedgerFile.status == FileStatus.FAILED,
                LedgerFile.updated_at >= since,
            )
            .group_by(LedgerFile.error_category, head)
        ).all()
    counted: dict[str, int] = {}
    for category, error, count in rows:
        reason = reason_of(category, error)
        counted[reason] = counted.get(reason, 0) + int(count)
    return counted


def record_success(ingestion_id: uuid.UUID) -> None:
    """The run got to its end: the stale-ingestion alert measures from here."""
    row = {"ingestion_id": ingestion_id, "listings_since_full": 0, "last_success_at": func.now()}
    statement = insert(DiscoveryState).values(row)
    with transaction(sessions()) as session:
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[DiscoveryState.ingestion_id],
                set_={"last_success_at": statement.excluded.last_success_at},
            )
        )


def _count(session: Session, conditions: tuple[Any, ...]) -> int:
    return int(session.scalar(select(func.count()).select_from(LedgerFile).where(*conditions)) or 0)
