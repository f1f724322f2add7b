"""A flow run's heartbeat in the metadata store, beaten from a background thread.

Prefect cannot tell a run whose worker and process were both killed from a long run: it stays
RUNNING. The heartbeat row can: when it stops being refreshed, reconciliation knows the run is
dead, marks it crashed and settles the batches it had claimed.
"""

from __future__ import annotations

import logging
import threading
import uuid
from types import TracebackType

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

UPSERT = text(
    """
    INSERT INTO run_heartbeats (flow_run_id, ingestion_id, started_at, beat_at)
    VALUES (:run, :ingestion, now(), now())
    ON CONFLICT (flow_run_id) DO UPDATE SET beat_at = now()
    """
)


class Heartbeat:
    """`with Heartbeat(...)`: beats every `period` seconds until the block ends."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        flow_run_id: uuid.UUID,
        ingestion_id: uuid.UUID,
        period: float,
    ) -> None:
        self.sessions = sessions
        self.params = {"run": flow_run_id, "ingestion": ingestion_id}
        self.period = period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat_until_stopped, daemon=True)

    def __enter__(self) -> Heartbeat:
        self.beat()
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        # The row stays: the run is not over for Prefect until its final state is reported, and
        # a run RUNNING without a heartbeat row would look dead. Reconciliation removes the rows
        # of runs Prefect has ended.
        self.beat()

    def beat(self) -> None:
        with self.sessions.begin() as session:
            session.execute(UPSERT, self.params)

    def _beat_until_stopped(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self.beat()
            except Exception:  # a missed beat is retried next period; a dead DB ends the run
                log.warning("heartbeat of run %s failed", self.params["run"], exc_info=True)
