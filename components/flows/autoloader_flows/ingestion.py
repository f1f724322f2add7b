"""run_ingestion: settle what a dead run left, discover new files, load the backlog batch by
batch within the run's budget, and end in a state that tells the truth about the files.

Deployments name this flow by module path (autoloader_orchestration.names); keep them in step.
This module imports only Prefect and settings: a run is RUNNING once it has loaded, and the
heavy imports (autoloader_flows.steps) come after.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from autoloader_orchestration.names import INGESTION_FLOW, RUN_SUMMARY_ARTIFACT_TYPE
from prefect import flow, get_run_logger, task
from prefect.artifacts import Artifact
from prefect.client.schemas.objects import State
from prefect.runtime import flow_run
from prefect.states import Completed
from prefect.tasks import exponential_backoff

from autoloader_flows.context import settings
from autoloader_flows.secrets import scrub_logs, scrubbed_errors

if TYPE_CHECKING:
    from autoloader_ingest.batches import BatchResult

SETTINGS = settings()
scrub_logs()
# Retries back off exponentially from the configured delay (60 s, 120 s, 240 s by default).
TASK_OPTIONS: dict[str, Any] = {
    "retries": SETTINGS.task_retries,
    "retry_delay_seconds": exponential_backoff(backoff_factor=SETTINGS.task_retry_delay_seconds)
    if SETTINGS.task_retry_delay_seconds
    else 0,
    "timeout_seconds": SETTINGS.task_timeout_seconds,
    "persist_result": False,
}


@dataclass
class RunSummary:
    ingestion_id: str
    ingestion_name: str = ""
    files_discovered: int = 0
    files_loaded: int = 0
    files_failed: int = 0
    files_skipped: int = 0  # still waiting: the run's budget ran out first
    rows: int = 0
    bytes: int = 0
    batches: int = 0
    batches_settled: int = 0
    full_refresh: bool = False
    seconds: float = 0.0
    failures: list[dict[str, str]] = field(default_factory=list)
    failure_reasons: dict[str, int] = field(default_factory=dict)  # every failure, by category
    discovery_seconds: float = 0.0
    files_cleaned: int = 0  # deleted or moved by source.after_load
    cleanup_failures: int = 0  # recorded on each file, retried by the next run

    def add(self, result: BatchResult, byte_count: int) -> None:
        self.batches += 1
        self.files_loaded += result.loaded_files
        self.rows += result.rows
        if result.snapshot_id is not None:
            self.bytes += byte_count


@task(name="settle-dead-batches", **TASK_OPTIONS)
def settle_dead_batches(ingestion_id: uuid.UUID, run_id: uuid.UUID) -> int:
    from autoloader_flows import steps

    with scrubbed_errors():
        return steps.settle_dead_batches(ingestion_id, run_id, get_run_logger())


@task(name="full-refresh", **TASK_OPTIONS)
def apply_full_refresh(ingestion_id: uuid.UUID, run_id: uuid.UUID) -> bool:
    from autoloader_flows import steps

    with scrubbed_errors():
        return steps.apply_full_refresh(ingestion_id, run_id, get_run_logger())


@task(name="discover", **TASK_OPTIONS)
def discover_new_files(ingestion_id: uuid.UUID) -> dict[str, Any]:
    from autoloader_flows import steps

    with scrubbed_errors():
        return steps.discover_new_files(ingestion_id, get_run_logger())


def retry_unless_deterministic(task: Any, task_run: Any, state: State[Any]) -> bool:
    """Prefect's retry condition for loading: a failure that would fail the same way again (a
    malformed file, a schema that does not fit) is not retried, and no run waits on it."""
    try:
        state.result()
    except Exception as error:
        from autoloader_spark.classify import classify

        return classify(error).retryable
    return True


@task(
    name="clean-up-source",
    timeout_seconds=SETTINGS.task_timeout_seconds,
    persist_result=False,
)
def clean_up_source(ingestion_id: uuid.UUID) -> tuple[int, int]:
    """Not retried: each file's failure is recorded, and the next run tries it again."""
    from autoloader_flows import steps

    with scrubbed_errors():
        return steps.clean_up_source(ingestion_id, get_run_logger())


@task(name="load-batch", retry_condition_fn=retry_unless_deterministic, **TASK_OPTIONS)
def load_next_batch(
    ingestion_id: uuid.UUID, run_id: uuid.UUID, run_started_at: datetime
) -> tuple[BatchResult, int] | None:
    from autoloader_flows import steps

    with scrubbed_errors():
        return steps.load_next_batch(ingestion_id, run_id, run_started_at, get_run_logger())


@flow(
    name=INGESTION_FLOW,
    timeout_seconds=SETTINGS.flow_timeout_seconds,
    persist_result=False,
    log_prints=False,
)
def run_ingestion(ingestion_id: uuid.UUID) -> State[Any]:
    """One run of an ingestion; returns a summary of files, rows and bytes."""
    with scrubbed_errors():
        return _run(ingestion_id)


def _run(ingestion_id: uuid.UUID) -> State[Any]:
    from autoloader_flows import steps

    started = time.monotonic()
    started_at = datetime.now(UTC)
    run_id = uuid.UUID(str(flow_run.get_id())) if flow_run.get_id() else uuid.uuid4()
    logger = get_run_logger()
    ingestion = steps.ingestion_of(ingestion_id)
    # Not tasks: no retries, the run fails at once with the reason.
    steps.ensure_credential_granted(ingestion)
    steps.ensure_table_available(ingestion)
    steps.spark_access_of(ingestion)  # a source Spark may not read fails the run here, at once
    summary = RunSummary(ingestion_id=str(ingestion_id), ingestion_name=ingestion.name)
    with steps.heartbeat(run_id, ingestion.id):
        try:
            summary.batches_settled = settle_dead_batches(ingestion.id, run_id)
            summary.full_refresh = apply_full_refresh(ingestion.id, run_id)
            discovered = discover_new_files(ingestion.id)
            summary.files_discovered = discovered["new"]
            summary.discovery_seconds = discovered["seconds"]
            while time.monotonic() - started < SETTINGS.run_budget_seconds:
                loaded = load_next_batch(ingestion.id, run_id, started_at)
                if loaded is None:
                    break
                summary.add(*loaded)
            else:
                logger.warning(
                    "run budget of %.0f s reached; the rest waits for the next run",
                    SETTINGS.run_budget_seconds,
                )
            try:
                summary.files_cleaned, summary.cleanup_failures = clean_up_source(ingestion.id)
            except Exception as error:  # its timeout, say: the loads stand, the next run tries
                logger.warning("source cleanup did not finish: %s", error)
        finally:
            steps.close_spark()
    summary.files_skipped, summary.files_failed, summary.failures = steps.outcome_since(
        ingestion.id, started_at
    )
    summary.failure_reasons = steps.failure_reasons(ingestion.id, started_at)
    steps.record_success(ingestion.id)
    summary.seconds = round(time.monotonic() - started, 3)
    _publish(summary)
    return _final_state(summary)


def _publish(summary: RunSummary) -> None:
    """The summary as an artifact of the run, which the API reads back. The files are loaded
    and recorded by now: failing to publish is logged, and does not fail the run."""
    try:
        Artifact(type=RUN_SUMMARY_ARTIFACT_TYPE, data=asdict(summary)).create()
    except Exception as error:  # the API then shows the ledger's figures without failures
        get_run_logger().warning("could not publish the run summary: %s", error)


def _final_state(summary: RunSummary) -> State[Any]:
    loaded = f"{summary.files_loaded} files loaded ({summary.rows} rows, {summary.bytes} bytes)"
    if summary.files_cleaned or summary.cleanup_failures:
        loaded += f"; source cleanup: {summary.files_cleaned} files done"
        if summary.cleanup_failures:
            loaded += f", {summary.cleanup_failures} failed (retried next run)"
    if summary.files_failed:
        first = summary.failures[0] if summary.failures else {"path": "?", "error": "?"}
        by_category = ", ".join(
            f"{count} {category}" for category, count in sorted(summary.failure_reasons.items())
        )
        return Completed(
            name="Completed with failures",
            message=(
                f"{loaded}; {summary.files_failed} files failed ({by_category}), first "
                f"{first['path']}: {first['error']}"
            ),
            data=asdict(summary),
        )
    return Completed(message=loaded, data=asdict(summary))
