"""The worker's Prometheus metrics (names from the design note, section 10.2)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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
RECONCILE_ACTIONS = Counter(
    "reconcile_actions_total", "What reconciliation did, by kind.", ["action"]
)


def status_label(state_name: str | None) -> str:
    """`Completed with failures` -> `completed_with_failures`."""
    return (state_name or "unknown").strip().lower().replace(" ", "_")
