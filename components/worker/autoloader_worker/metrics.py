"""The worker's Prometheus metrics (names from the design note, section 10.2, and the README's
list). Files, rows, bytes, failures and discovery time come from the summary each ingestion run
publishes, counted by the worker that ran it, so a run in a subprocess or a Kubernetes Job
counts the same way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

INGESTION_LABELS = ["ingestion_id", "ingestion"]

FLOW_RUNS = Counter(
    "flow_runs_total", "Flow runs this worker executed, by final state.", ["status"]
)
FLOW_RUN_DURATION = Histogram(
    "flow_run_duration_seconds",
    "Wall time of the flow runs this worker executed.",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200),
)
ACTIVE_TASKS = Gauge("worker_active_tasks", "Flow runs executing on this worker now.")
QUEUE_DEPTH = Gauge(
    "work_queue_depth", "Runs waiting (scheduled and due, or pending) per work queue.", ["queue"]
)
PREFECT_API_UP = Gauge(
    "prefect_api_up", "1 when the worker's last call to the Prefect API succeeded, else 0."
)
RECONCILE_ACTIONS = Counter(
    "reconcile_actions_total", "What reconciliation did, by kind.", ["action"]
)
FILES_INGESTED = Counter("files_ingested_total", "Files loaded into their table.", INGESTION_LABELS)
ROWS_INGESTED = Counter("rows_ingested_total", "Rows appended to tables.", INGESTION_LABELS)
BYTES_INGESTED = Counter(
    "bytes_ingested_total", "Bytes of the files loaded into their table.", INGESTION_LABELS
)
FILES_FAILED = Counter(
    "files_failed_total",
    "Files that failed to load, by reason (the Spark condition or the error type).",
    [*INGESTION_LABELS, "reason"],
)
DISCOVERY_DURATION = Histogram(
    "discovery_duration_seconds",
    "Time to list an ingestion's source and record its new files.",
    INGESTION_LABELS,
    buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)


def status_label(state_name: str | None) -> str:
    """`Completed with failures` -> `completed_with_failures`."""
    return (state_name or "unknown").strip().lower().replace(" ", "_")


def count_run(summary: Mapping[str, Any]) -> None:
    """Adds what an ingestion run did (its published summary) to the counters."""
    labels = (str(summary.get("ingestion_id", "")), str(summary.get("ingestion_name", "")))
    FILES_INGESTED.labels(*labels).inc(int(summary.get("files_loaded", 0)))
    ROWS_INGESTED.labels(*labels).inc(int(summary.get("rows", 0)))
    BYTES_INGESTED.labels(*labels).inc(int(summary.get("bytes", 0)))
    for reason, count in dict(summary.get("failure_reasons") or {}).items():
        FILES_FAILED.labels(*labels, str(reason)).inc(int(count))
    if "discovery_seconds" in summary:
        DISCOVERY_DURATION.labels(*labels).observe(float(summary["discovery_seconds"]))
