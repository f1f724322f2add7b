"""Gauges read from the metadata database at scrape time: each ingestion's backlog, when its
last run succeeded, and how often its schedule fires (the stale-ingestion alert compares the
two). Every worker exports the same values; dashboards and alerts take the max per ingestion."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from cronsim import CronSim
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("autoloader.worker.metrics")
LABELS = ["ingestion_id", "ingestion", "tenant"]
STATE_SQL = text(
    """
    SELECT i.id, i.name, t.name AS tenant, i.status, i.schedule_cron, i.schedule_timezone,
           coalesce(b.files, 0) AS files, coalesce(b.bytes, 0) AS bytes, d.last_success_at
    FROM ingestions i
    JOIN tenants t ON t.id = i.tenant_id
    LEFT JOIN (
        SELECT ingestion_id, count(*) AS files, sum(size) AS bytes FROM files
        WHERE status IN ('discovered', 'claimed') GROUP BY ingestion_id
    ) b ON b.ingestion_id = i.id
    LEFT JOIN discovery_state d ON d.ingestion_id = i.id
    WHERE i.status <> 'deleted'
    """
)


@dataclass(frozen=True)
class IngestionState:
    labels: tuple[str, str, str]
    backlog_files: int
    backlog_bytes: int
    last_success: float | None  # Unix time
    expected_interval: float | None  # seconds between two scheduled runs; None: no schedule


def expected_interval(cron: str | None, timezone: str, now: datetime | None = None) -> float | None:
    """Seconds between the schedule's next two runs, or None without a (readable) schedule."""
    if not cron:
        return None
    try:
        # cronsim, not Prefect's vendored croniter: that one misplaces runs after a clock change.
        start = (now or datetime.now(ZoneInfo(timezone))).astimezone(ZoneInfo(timezone))
        fires = CronSim(cron, start)
        first, second = next(fires), next(fires)
    except Exception:  # validated on the way in; an old row must not break the scrape
        return None
    return second.timestamp() - first.timestamp()  # real seconds, across clock changes


def read_states(session: Session) -> list[IngestionState]:
    states = []
    for row in session.execute(STATE_SQL):
        active = row.status == "active"
        states.append(
            IngestionState(
                labels=(str(row.id), row.name, row.tenant),
                backlog_files=int(row.files),
                backlog_bytes=int(row.bytes),
                last_success=row.last_success_at.timestamp() if row.last_success_at else None,
                expected_interval=(
                    expected_interval(row.schedule_cron, row.schedule_timezone) if active else None
                ),
            )
        )
    return states


class IngestionStateCollector(Collector):
    """Reads the states at most every `cache_seconds`, however many scrapes come."""

    def __init__(self, sessions: sessionmaker[Session], cache_seconds: float = 15) -> None:
        self._sessions = sessions
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._read_at = float("-inf")
        self._states: list[IngestionState] = []

    def collect(self) -> Iterator[Metric]:
        yield from families(self._current())

    def describe(self) -> Iterator[Metric]:
        """The families without values: registering reads no database."""
        yield from families([])

    def _current(self) -> list[IngestionState]:
        with self._lock:
            if time.monotonic() - self._read_at >= self._cache_seconds:
                try:
                    with self._sessions() as session:
                        self._states = read_states(session)
                except Exception:
                    log.warning("could not read the ingestions' state", exc_info=True)
                self._read_at = time.monotonic()
            return self._states


def families(states: Iterable[IngestionState]) -> list[Metric]:
    files = GaugeMetricFamily(
        "ingestion_backlog_files", "Files discovered and not yet loaded.", labels=LABELS
    )
    size = GaugeMetricFamily(
        "ingestion_backlog_bytes", "Bytes of the files not yet loaded.", labels=LABELS
    )
    success = GaugeMetricFamily(
        "ingestion_last_success_timestamp_seconds",
        "When a run of the ingestion last got to its end (Unix time).",
        labels=LABELS,
    )
    interval = GaugeMetricFamily(
        "ingestion_expected_interval_seconds",
        "Seconds between two scheduled runs of an active ingestion.",
        labels=LABELS,
    )
    for state in states:
        labels = list(state.labels)
        files.add_metric(labels, state.backlog_files)
        size.add_metric(labels, state.backlog_bytes)
        if state.last_success is not None:
            success.add_metric(labels, state.last_success)
        if state.expected_interval is not None:
            interval.add_metric(labels, state.expected_interval)
    return [files, size, success, interval]
