"""Refreshes of an ingestion: full (delete what it loaded, load every file again) and new-only
(from now on, only files that arrive later). Each runs in the caller's transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from autoloader_metadata.models import RefreshRequest
from sqlalchemy import CursorResult, delete, select, text
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class RefreshPlan:
    """What a refresh would do, counted now."""

    files: int  # files a full refresh loads again, or new-only stops waiting for
    rows: int  # rows a full refresh deletes from the table first (0 for new-only)
    claimed_files: int  # files in a running batch: left to that run


class Refreshes:
    def __init__(self, session: Session) -> None:
        self.session = session

    def full_plan(self, ingestion_id: uuid.UUID) -> RefreshPlan:
        row = self.session.execute(
            text(
                """
                SELECT count(*) FILTER (WHERE status <> 'claimed') AS files,
                       coalesce(sum(rows_loaded) FILTER (WHERE status = 'loaded'), 0) AS rows,
                       count(*) FILTER (WHERE status = 'claimed') AS claimed
                FROM files WHERE ingestion_id = :i
                """
            ),
            {"i": ingestion_id},
        ).one()
        return RefreshPlan(int(row.files), int(row.rows), int(row.claimed))

    def request_full(
        self, ingestion_id: uuid.UUID, requested_by: str | None
    ) -> tuple[RefreshRequest, bool]:
        """The pending full refresh of the ingestion, and whether this call made it; asking
        twice is one request."""
        pending = self.pending(ingestion_id, lock=True)
        if pending is not None:
            return pending, False
        request = RefreshRequest(ingestion_id=ingestion_id, requested_by=requested_by)
        self.session.add(request)
        self.session.flush()
        return request, True

    def withdraw(self, request_id: uuid.UUID) -> None:
        """Removes a request no run has taken up (its run could not be started)."""
        self.session.execute(
            delete(RefreshRequest).where(
                RefreshRequest.id == request_id,
                RefreshRequest.done_at.is_(None),
                RefreshRequest.flow_run_id.is_(None),
            )
        )

    def pending(self, ingestion_id: uuid.UUID, lock: bool = False) -> RefreshRequest | None:
        query = select(RefreshRequest).where(
            RefreshRequest.ingestion_id == ingestion_id, RefreshRequest.done_at.is_(None)
        )
        if lock:
            query = query.with_for_update()
        return self.session.scalars(query.order_by(RefreshRequest.requested_at).limit(1)).first()

    def loaded_batches(self, ingestion_id: uuid.UUID) -> list[uuid.UUID]:
        """The batches whose rows are in the table (loaded since the last full refresh): what
        a full refresh deletes."""
        return list(
            self.session.scalars(
                text(
                    """
                    SELECT id FROM batches
                    WHERE ingestion_id = :i AND status = 'loaded'
                      AND ended_at > coalesce(
                          (SELECT max(done_at) FROM refresh_requests WHERE ingestion_id = :i),
                          '-infinity')
                    """
                ),
                {"i": ingestion_id},
            )
        )

    def complete_full(
        self, request: RefreshRequest, rows_deleted: int, flow_run_id: uuid.UUID | None
    ) -> int:
        """After the table's rows are deleted: every file not in a running batch goes back to
        discovery, and the request is done, in one transaction. Returns the files reset."""
        result = cast(
            CursorResult[Any],
            self.session.execute(
                text(
                    """
                    UPDATE files SET status = 'discovered', attempts = 0, last_error = NULL,
                           error_category = NULL, batch_id = NULL, rows_loaded = NULL, loaded_at = NULL,
                           updated_at = now()
                    WHERE ingestion_id = :i AND status <> 'claimed'
                    """
                ),
                {"i": request.ingestion_id},
            ),
        )
        request.done_at = datetime.now(UTC)
        request.rows_deleted = rows_deleted
        request.files_reset = int(result.rowcount)
        request.flow_run_id = flow_run_id
        return request.files_reset

    def new_only_plan(self, ingestion_id: uuid.UUID) -> RefreshPlan:
        row = self.session.execute(
            text(
                """
                SELECT count(*) FILTER (WHERE status IN ('discovered', 'failed')) AS files,
                       count(*) FILTER (WHERE status = 'claimed') AS claimed
                FROM files WHERE ingestion_id = :i
                """
            ),
            {"i": ingestion_id},
        ).one()
        return RefreshPlan(int(row.files), 0, int(row.claimed))

    def new_only(self, ingestion_id: uuid.UUID) -> int:
        """Files waiting to load are skipped (the caller moves the source's start date to now,
        so files modified before it are never picked up). Returns the files skipped."""
        result = cast(
            CursorResult[Any],
            self.session.execute(
                text(
                    """
                    UPDATE files SET status = 'skipped', last_error = 'skipped by a new-only refresh',
                           error_category = NULL, batch_id = NULL, updated_at = now()
                    WHERE ingestion_id = :i AND status IN ('discovered', 'failed')
                    """
                ),
                {"i": ingestion_id},
            ),
        )
        return int(result.rowcount)
