"""run_ingestion: settle what a dead run left, discover new files, load the backlog batch by
batch within the run's budget, and end in a state that tells the truth about the files.

Deployments name this flow by module path (autoloader_orchestration.names); keep them in step.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from autoloader_metadata.db import transaction
from autoloader_metadata.enums import FileStatus, IngestionStatus
from autoloader_metadata.ledger import FileLedger
from autoloader_metadata.models import Ingestion, LedgerFile
from autoloader_orchestration.heartbeat import Heartbeat
from autoloader_orchestration.names import INGESTION_FLOW
from prefect import flow, get_run_logger, task
from prefect.client.schemas.objects import State
from prefect.runtime import flow_run
from prefect.states import Completed
from prefect.tasks import exponential_backoff
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from autoloader_flows.context import sessions, settings

if TYPE_CHECKING:
    from autoloader_ingest.batches import BatchResult
    from pyspark.sql import SparkSession

# Spark, storage and loading code is imported inside the tasks, not here: a run reaches RUNNING
# as soon as this module loads, and those imports take seconds.

SETTINGS = settings()
# Retries back off exponentially from the configured delay (60 s, 120 s, 240 s by default).
TASK_OPTIONS: dict[str, Any] = {
    "retries": SETTINGS.task_retries,
    "retry_delay_seconds": exponential_backoff(backoff_factor=SETTINGS.task_retry_delay_seconds)
    if SETTINGS.task_retry_delay_seconds
    else 0,
    "timeout_seconds": SETTINGS.task_timeout_seconds,
    "persist_result": False,
}
MAX_FAILURES_LISTED = 20


@dataclass
class RunSummary:
    ingestion_id: str
    files_discovered: int = 0
    files_loaded: int = 0
    files_failed: int = 0
    files_skipped: int = 0  # left for a later run: the run's budget ran out first
    rows: int = 0
    bytes: int = 0
    batches: int = 0
    batches_settled: int = 0
    seconds: float = 0.0
    failures: list[dict[str, str]] = field(default_factory=list)

    def add(self, result: BatchResult, byte_count: int) -> None:
        self.batches += 1
        self.files_loaded += result.loaded_files
        self.files_failed += result.failed_files
        self.rows += result.rows
        if result.snapshot_id is not None:
            self.bytes += byte_count


def _ingestion(ingestion_id: uuid.UUID) -> Ingestion:
    with sessions()() as session:
        ingestion = session.get(Ingestion, ingestion_id)
        if ingestion is None or ingestion.status is IngestionStatus.DELETED:
            raise LookupError(f"ingestion {ingestion_id} does not exist")
        session.expunge(ingestion)
        return ingestion


def _spark(ingestion: Ingestion) -> SparkSession:
    from autoloader_spark.session import connect

    return connect(SETTINGS.spark_remote_of(ingestion.cluster))


@task(name="settle-dead-batches", **TASK_OPTIONS)
def settle_dead_batches(ingestion_id: uuid.UUID, run_id: uuid.UUID) -> int:
    """Batches of this ingestion still claimed by a run that no longer beats: each is marked
    loaded when its Iceberg commit happened, released otherwise."""
    stale = timedelta(seconds=SETTINGS.stale_run_seconds)
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
    from autoloader_ingest.batches import recover_batch

    ingestion = _ingestion(ingestion_id)
    spark = _spark(ingestion)
    logger = get_run_logger()
    for batch_id in batch_ids:
        committed = recover_batch(sessions(), spark, ingestion, batch_id)
        logger.info(
            "batch %s of a dead run: %s",
            batch_id,
            "was committed, marked loaded" if committed else "was not committed, files released",
        )
    return len(batch_ids)


@task(name="discover", **TASK_OPTIONS)
def discover_new_files(ingestion_id: uuid.UUID) -> dict[str, Any]:
    from autoloader_discovery.discover import discover

    ingestion = _ingestion(ingestion_id)
    with transaction(sessions()) as session:
        result = discover(session, ingestion)
    get_run_logger().info(
        "listed %d files in %.1f s: %d new, %d rewritten%s",
        result.listed,
        result.seconds,
        len(result.new),
        len(result.rewritten),
        " (full listing)" if result.full_listing else "",
    )
    return {"listed": result.listed, "new": len(result.new), "rewritten": len(result.rewritten)}


@task(name="load-batch", **TASK_OPTIONS)
def load_next_batch(ingestion_id: uuid.UUID, run_id: uuid.UUID) -> tuple[BatchResult, int] | None:
    """Claims the next batch and loads it; None when nothing is left to claim.

    If loading raises (Spark unreachable, a timeout), the batch is settled against the table
    before the task retries, so the retry claims its files again only if they were not committed.
    """
    from autoloader_ingest.batches import load_claimed_batch, recover_batch

    ingestion = _ingestion(ingestion_id)
    with transaction(sessions()) as session:
        batch = FileLedger(session).claim_batch(
            ingestion.id, ingestion.max_files_per_batch, ingestion.max_bytes_per_batch, run_id
        )
    if batch is None:
        return None
    logger = get_run_logger()
    logger.info("batch %s: %d files, %d bytes", batch.id, len(batch.files), batch.byte_count)
    spark = _spark(ingestion)
    try:
        result = load_claimed_batch(sessions(), spark, ingestion, batch)
    except Exception:
        try:
            recover_batch(sessions(), spark, ingestion, batch.id)
        except Exception:
            logger.warning(
                "batch %s stays claimed; the next run or reconciliation settles it", batch.id
            )
        raise
    logger.info(
        "batch %s: %d files loaded (%d rows), %d failed",
        batch.id,
        result.loaded_files,
        result.rows,
        result.failed_files,
    )
    return result, batch.byte_count


@flow(
    name=INGESTION_FLOW,
    timeout_seconds=SETTINGS.flow_timeout_seconds,
    persist_result=False,
    log_prints=False,
)
def run_ingestion(ingestion_id: uuid.UUID) -> State[Any]:
    """One run of an ingestion; returns a summary of files, rows and bytes."""
    started = time.monotonic()
    started_at = datetime.now(UTC)
    run_id = uuid.UUID(str(flow_run.get_id())) if flow_run.get_id() else uuid.uuid4()
    summary = RunSummary(ingestion_id=str(ingestion_id))
    logger = get_run_logger()
    ingestion = _ingestion(ingestion_id)
    with Heartbeat(sessions(), run_id, ingestion.id, SETTINGS.heartbeat_seconds):
        try:
            summary.batches_settled = settle_dead_batches(ingestion.id, run_id)
            summary.files_discovered = discover_new_files(ingestion.id)["new"]
            while time.monotonic() - started < SETTINGS.run_budget_seconds:
                loaded = load_next_batch(ingestion.id, run_id)
                if loaded is None:
                    break
                summary.add(*loaded)
            else:
                logger.warning(
                    "run budget of %.0f s reached; the rest waits for the next run",
                    SETTINGS.run_budget_seconds,
                )
        finally:
            _close_spark()
    with sessions()() as session:
        ledger = FileLedger(session)
        summary.files_skipped = ledger.counts(ingestion.id).get(FileStatus.DISCOVERED, 0)
        summary.failures = _failures_since(session, ingestion.id, started_at)
    summary.seconds = round(time.monotonic() - started, 3)
    return _final_state(summary)


def _failures_since(
    session: Session, ingestion_id: uuid.UUID, since: datetime
) -> list[dict[str, str]]:
    rows = session.execute(
        select(LedgerFile.path, LedgerFile.last_error)
        .where(
            LedgerFile.ingestion_id == ingestion_id,
            LedgerFile.status == "failed",
            LedgerFile.updated_at >= since,
        )
        .order_by(LedgerFile.path)
        .limit(MAX_FAILURES_LISTED)
    ).all()
    return [{"path": row.path, "error": row.last_error or ""} for row in rows]


def _final_state(summary: RunSummary) -> State[Any]:
    loaded = f"{summary.files_loaded} files loaded ({summary.rows} rows, {summary.bytes} bytes)"
    if summary.files_failed:
        first = summary.failures[0] if summary.failures else {"path": "?", "error": "?"}
        return Completed(
            name="Completed with failures",
            message=(
                f"{loaded}; {summary.files_failed} files failed, first {first['path']}: "
                f"{first['error']}"
            ),
            data=asdict(summary),
        )
    return Completed(message=loaded, data=asdict(summary))


def _close_spark() -> None:
    import sys

    if "autoloader_spark.session" in sys.modules:  # only if this run opened a session
        from autoloader_spark.session import close_all

        close_all()
