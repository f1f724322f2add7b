"""The file ledger: which files an ingestion has seen, claimed, loaded or failed.

Every operation is set-based (one statement for a whole listing or batch, never one per file) and
runs in the caller's transaction. PostgreSQL is required: COPY, FOR UPDATE SKIP LOCKED, window
functions and partial indexes do the work.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from autoloader_metadata.enums import BatchStatus, FileStatus, RewrittenFilePolicy
from autoloader_metadata.errors import Conflict, NotFound
from autoloader_metadata.failures import FileFailure
from sqlalchemy import CursorResult, TextClause, text
from sqlalchemy.orm import Session

from autoloader_core.scrub import scrub

DEFAULT_MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class ListedFile:
    """One object as a listing reports it."""

    path: str
    size: int
    etag: str | None
    modified_at: datetime


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    path: str
    size: int
    change: Literal["new", "rewritten"]


@dataclass(frozen=True)
class ListingDiff:
    listed: int
    new: list[LedgerEntry]
    rewritten: list[LedgerEntry]

    @property
    def to_load(self) -> list[LedgerEntry]:
        return self.new + self.rewritten


@dataclass(frozen=True)
class ClaimedFile:
    id: int
    path: str
    size: int
    etag: str | None
    modified_at: datetime
    attempts: int
    replaces_rows: bool = False  # rewritten under `replace`: its earlier rows go in the load


@dataclass(frozen=True)
class CleanableFile:
    """A loaded file whose retention has passed, for source cleanup."""

    id: int
    path: str
    size: int
    etag: str | None


@dataclass(frozen=True)
class ClaimedBatch:
    id: uuid.UUID
    ingestion_id: uuid.UUID
    files: list[ClaimedFile]

    @property
    def byte_count(self) -> int:
        return sum(file.size for file in self.files)


class FileLedger:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- discovery ---------------------------------------------------------------------------

    def record_listing(
        self,
        ingestion_id: uuid.UUID,
        listing: Iterable[ListedFile],
        policy: RewrittenFilePolicy,
    ) -> ListingDiff:
        """Records what a listing saw; returns the files that are new, or rewritten (ETag or size
        changed) when the policy reloads them. The listing is streamed to the server with COPY.
        """
        listed = self._copy_listing(listing)
        new = self._insert_new(ingestion_id) + self._reset_reappeared(ingestion_id)
        rewritten = (
            self._reset_rewritten(ingestion_id, replace=policy is RewrittenFilePolicy.REPLACE)
            if policy is not RewrittenFilePolicy.IGNORE
            else []
        )
        return ListingDiff(listed=listed, new=new, rewritten=rewritten)

    def _copy_listing(self, listing: Iterable[ListedFile]) -> int:
        driver_connection: Any = self.session.connection().connection.driver_connection
        count = 0
        with driver_connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS pg_temp.ledger_listing")
            cursor.execute(
                "CREATE TEMP TABLE ledger_listing "
                "(path text NOT NULL, size bigint NOT NULL, etag text, modified_at timestamptz NOT NULL) "
                "ON COMMIT DROP"
            )
            with cursor.copy(
                "COPY ledger_listing (path, size, etag, modified_at) FROM STDIN"
            ) as copy:
                for item in listing:
                    copy.write_row((item.path, item.size, item.etag, item.modified_at))
                    count += 1
            cursor.execute("ANALYZE ledger_listing")
        return count

    def _insert_new(self, ingestion_id: uuid.UUID) -> list[LedgerEntry]:
        rows = self.session.execute(
            text(
                """
                INSERT INTO files (ingestion_id, path, size, etag, modified_at, status)
                SELECT DISTINCT ON (l.path) :ingestion, l.path, l.size, l.etag, l.modified_at,
                       'discovered'
                FROM ledger_listing l
                WHERE NOT EXISTS (
                    SELECT 1 FROM files f WHERE f.ingestion_id = :ingestion AND f.path = l.path
                )
                ORDER BY l.path
                ON CONFLICT (ingestion_id, path) DO NOTHING
                RETURNING id, path, size
                """
            ),
            {"ingestion": ingestion_id},
        ).all()
        return [LedgerEntry(row.id, row.path, row.size, "new") for row in rows]

    def _reset_reappeared(self, ingestion_id: uuid.UUID) -> list[LedgerEntry]:
        # A path that source cleanup deleted or moved and that is listed again holds a new
        # delivery (a producer writing `daily.csv` each day): new, whatever the rewritten-file
        # policy, and it replaces no rows (the earlier delivery's rows stay).
        rows = self.session.execute(
            text(
                """
                UPDATE files f
                SET size = l.size, etag = l.etag, modified_at = l.modified_at,
                    status = 'discovered', attempts = 0, last_error = NULL, error_category = NULL,
                    batch_id = NULL, rows_loaded = NULL, loaded_at = NULL, updated_at = now(),
                    replaces_rows = false, cleaned_at = NULL, cleaned_to = NULL,
                    cleanup_error = NULL, first_seen_at = now()
                FROM ledger_listing l
                WHERE f.ingestion_id = :ingestion AND f.path = l.path
                  AND f.cleaned_at IS NOT NULL
                RETURNING f.id, f.path, f.size
                """
            ),
            {"ingestion": ingestion_id},
        ).all()
        return [LedgerEntry(row.id, row.path, row.size, "new") for row in rows]

    def _reset_rewritten(self, ingestion_id: uuid.UUID, replace: bool) -> list[LedgerEntry]:
        # A file being loaded right now is left alone; the next listing still sees it changed.
        # Under `replace` the file is marked to have its earlier rows replaced when it loads
        # (and stays marked, if it fails, until a load replaces them).
        rows = self.session.execute(
            text(
                """
                UPDATE files f
                SET size = l.size, etag = l.etag, modified_at = l.modified_at,
                    status = 'discovered', attempts = 0, last_error = NULL, error_category = NULL,
                    batch_id = NULL, rows_loaded = NULL, loaded_at = NULL, updated_at = now(),
                    replaces_rows = f.replaces_rows OR :replace
                FROM ledger_listing l
                WHERE f.ingestion_id = :ingestion AND f.path = l.path AND f.status <> 'claimed'
                  AND (f.etag IS DISTINCT FROM l.etag OR f.size <> l.size)
                RETURNING f.id, f.path, f.size
                """
            ),
            {"ingestion": ingestion_id, "replace": replace},
        ).all()
        return [LedgerEntry(row.id, row.path, row.size, "rewritten") for row in rows]

    # -- source cleanup ----------------------------------------------------------------------

    def cleanable(
        self, ingestion_id: uuid.UUID, retain: timedelta, limit: int
    ) -> list[CleanableFile]:
        """Loaded files not yet cleaned up whose load is older than `retain`: those never tried
        first, then those whose last try failed, oldest load first within each."""
        rows = self.session.execute(
            text(
                """
                SELECT id, path, size, etag FROM files
                WHERE ingestion_id = :ingestion AND status = 'loaded' AND cleaned_at IS NULL
                  AND loaded_at <= now() - CAST(:retain AS interval)
                ORDER BY cleanup_error IS NOT NULL, loaded_at, id
                LIMIT :limit
                """
            ),
            {
                "ingestion": ingestion_id,
                "retain": f"{retain.total_seconds()} seconds",
                "limit": limit,
            },
        ).all()
        return [CleanableFile(row.id, row.path, row.size, row.etag) for row in rows]

    def mark_cleaned(self, file_id: int, moved_to: str | None) -> bool:
        """Records a cleanup; False when the file is no longer the loaded file it was (sent
        back to discovery meanwhile), whose row then stays as it is."""
        return bool(
            self._modify(
                text(
                    "UPDATE files SET cleaned_at = now(), cleaned_to = :to, cleanup_error = NULL,"
                    " updated_at = now() WHERE id = :id AND status = 'loaded'"
                ),
                {"id": file_id, "to": moved_to},
            )
        )

    def mark_cleanup_failed(self, file_id: int, error: str) -> None:
        self._modify(
            text(
                "UPDATE files SET cleanup_error = :error, updated_at = now()"
                " WHERE id = :id AND status = 'loaded' AND cleaned_at IS NULL"
            ),
            {"id": file_id, "error": scrub(error)[:2000]},
        )

    def cleaned_count(self, ingestion_id: uuid.UUID) -> int:
        return int(
            self.session.execute(
                text(
                    "SELECT count(*) FROM files"
                    " WHERE ingestion_id = :ingestion AND cleaned_at IS NOT NULL"
                ),
                {"ingestion": ingestion_id},
            ).scalar_one()
        )

    # -- claiming ----------------------------------------------------------------------------

    def claim_batch(
        self,
        ingestion_id: uuid.UUID,
        max_files: int,
        max_bytes: int,
        flow_run_id: uuid.UUID | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        failed_before: datetime | None = None,
    ) -> ClaimedBatch | None:
        """Atomically claims the oldest loadable files, within both bounds, as a new batch.

        Rows locked by a concurrent claim are skipped, so two workers never share a file. A single
        file larger than max_bytes is claimed alone rather than never. A failed file is tried
        again while it has attempts left, and with `failed_before` (a run's start) only if it
        failed before then: a run does not retry at once what it just saw fail. None when nothing
        is left.
        """
        if max_files < 1 or max_bytes < 1:
            raise ValueError("max_files and max_bytes must be positive")
        batch_id = uuid.uuid4()
        self.session.execute(
            text(
                "INSERT INTO batches (id, ingestion_id, flow_run_id, status, file_count, byte_count)"
                " VALUES (:id, :ingestion, :run, 'claimed', 0, 0)"
            ),
            {"id": batch_id, "ingestion": ingestion_id, "run": flow_run_id},
        )
        rows = self.session.execute(
            text(
                """
                WITH candidates AS (
                    SELECT id, size, modified_at FROM files
                    WHERE ingestion_id = :ingestion
                      AND (status = 'discovered' OR (
                          status = 'failed' AND attempts < :attempts
                          AND (CAST(:failed_before AS timestamptz) IS NULL
                               OR updated_at < CAST(:failed_before AS timestamptz))))
                    ORDER BY modified_at, id
                    LIMIT :max_files
                    FOR UPDATE SKIP LOCKED
                ), bounded AS (
                    SELECT id, sum(size) OVER w AS running, row_number() OVER w AS position
                    FROM candidates
                    WINDOW w AS (ORDER BY modified_at, id ROWS UNBOUNDED PRECEDING)
                )
                UPDATE files f SET status = 'claimed', batch_id = :batch, updated_at = now()
                FROM bounded b
                WHERE f.id = b.id AND (b.running <= :max_bytes OR b.position = 1)
                RETURNING f.id, f.path, f.size, f.etag, f.modified_at, f.attempts,
                          f.replaces_rows
                """
            ),
            {
                "ingestion": ingestion_id,
                "attempts": max_attempts,
                "failed_before": failed_before,
                "max_files": max_files,
                "max_bytes": max_bytes,
                "batch": batch_id,
            },
        ).all()
        if not rows:
            self.session.execute(text("DELETE FROM batches WHERE id = :id"), {"id": batch_id})
            return None
        files = sorted(
            (
                ClaimedFile(
                    r.id, r.path, r.size, r.etag, r.modified_at, r.attempts, r.replaces_rows
                )
                for r in rows
            ),
            key=lambda file: (file.modified_at, file.id),
        )
        self.session.execute(
            text("UPDATE batches SET file_count = :files, byte_count = :bytes WHERE id = :id"),
            {"files": len(files), "bytes": sum(f.size for f in files), "id": batch_id},
        )
        return ClaimedBatch(id=batch_id, ingestion_id=ingestion_id, files=files)

    # -- outcomes ----------------------------------------------------------------------------

    def mark_batch_loaded(
        self,
        batch_id: uuid.UUID,
        snapshot_id: int | None,
        rows_per_file: Mapping[int, int | None],
        row_count: int | None = None,
    ) -> int:
        """Marks the batch's still-claimed files loaded with their row counts (None where the
        table cannot tell files apart); idempotent. The batch's rows are `row_count`, or else
        its files' sum.

        A batch that recovery already released cannot be marked loaded: its files may be in
        another batch now, and the caller must not count them twice.
        """
        status = self._batch_status(batch_id)
        if status is BatchStatus.LOADED:
            return 0
        if status is BatchStatus.ABANDONED:
            raise Conflict(f"batch {batch_id} was released by recovery; it cannot be marked loaded")
        ids = list(rows_per_file)
        updated = self._modify(
            text(
                """
                UPDATE files f SET status = 'loaded', rows_loaded = r.rows, loaded_at = now(),
                       last_error = NULL, error_category = NULL, updated_at = now(),
                       replaces_rows = false
                FROM unnest(CAST(:ids AS bigint[]), CAST(:rows AS bigint[])) AS r(id, rows)
                WHERE f.id = r.id AND f.batch_id = :batch AND f.status = 'claimed'
                """
            ),
            {"ids": ids, "rows": [rows_per_file[i] for i in ids], "batch": batch_id},
        )
        self.session.execute(
            text(
                """
                UPDATE batches SET status = 'loaded', snapshot_id = :snapshot, ended_at = now(),
                       row_count = coalesce(CAST(:rows AS bigint),
                                            (SELECT coalesce(sum(rows_loaded), 0) FROM files
                                             WHERE batch_id = :batch AND status = 'loaded'))
                WHERE id = :batch
                """
            ),
            {"snapshot": snapshot_id, "batch": batch_id, "rows": row_count},
        )
        return updated

    def mark_files_failed(
        self,
        batch_id: uuid.UUID,
        failures: Mapping[int, FileFailure],
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    ) -> int:
        """Records why each file failed, and in which category. A file is tried again until it
        has failed `max_attempts` times; a deterministic failure (the same bytes fail the same
        way) uses up its attempts at once, so it stays failed until someone reprocesses it."""
        ids = list(failures)
        return self._modify(
            text(
                """
                UPDATE files f SET status = 'failed',
                       attempts = CASE WHEN r.final THEN greatest(:max_attempts, f.attempts + 1)
                                       ELSE f.attempts + 1 END,
                       last_error = r.reason, error_category = r.category, batch_id = NULL,
                       updated_at = now()
                FROM unnest(CAST(:ids AS bigint[]), CAST(:reasons AS text[]),
                            CAST(:categories AS text[]), CAST(:finals AS boolean[]))
                     AS r(id, reason, category, final)
                WHERE f.id = r.id AND f.batch_id = :batch AND f.status = 'claimed'
                """
            ),
            {
                "ids": ids,
                "reasons": [scrub(failures[i].reason) for i in ids],
                "categories": [failures[i].category.value for i in ids],
                "finals": [not failures[i].retryable for i in ids],
                "max_attempts": max_attempts,
                "batch": batch_id,
            },
        )

    def split_batch(
        self, batch_id: uuid.UUID, parts: Sequence[Sequence[int]], reason: str
    ) -> list[uuid.UUID]:
        """Moves a claimed batch's files into new claimed batches, one per part (file ids), in
        the same run; the batch itself ends `split`. Each part is then loaded and settled on its
        own, with its own id in its Iceberg snapshot, so recovery by batch id still holds."""
        status = self._batch_status(batch_id)
        if status is not BatchStatus.CLAIMED:
            raise Conflict(f"batch {batch_id} is {status}; only a claimed batch can be split")
        part_ids: list[uuid.UUID] = []
        for part in parts:
            part_id = uuid.uuid4()
            self.session.execute(
                text(
                    """
                    INSERT INTO batches (id, ingestion_id, flow_run_id, parent_id, status,
                                         file_count, byte_count)
                    SELECT :part, ingestion_id, flow_run_id, id, 'claimed', 0, 0
                    FROM batches WHERE id = :batch
                    """
                ),
                {"part": part_id, "batch": batch_id},
            )
            self.session.execute(
                text(
                    """
                    WITH moved AS (
                        UPDATE files SET batch_id = :part, updated_at = now()
                        WHERE batch_id = :batch AND status = 'claimed'
                          AND id = ANY(CAST(:ids AS bigint[]))
                        RETURNING size
                    )
                    UPDATE batches SET file_count = (SELECT count(*) FROM moved),
                                       byte_count = (SELECT coalesce(sum(size), 0) FROM moved)
                    WHERE id = :part
                    """
                ),
                {"part": part_id, "batch": batch_id, "ids": list(part)},
            )
            part_ids.append(part_id)
        self.session.execute(
            text(
                "UPDATE batches SET status = 'split', error = :reason, ended_at = now()"
                " WHERE id = :batch"
            ),
            {"reason": scrub(reason), "batch": batch_id},
        )
        return part_ids

    def fail_batch(self, batch_id: uuid.UUID, error: str) -> None:
        """Ends a batch that could not be loaded as a whole; its claimed files are released."""
        self._release(batch_id, BatchStatus.FAILED, error)

    # -- recovery ----------------------------------------------------------------------------

    def release_batch(self, batch_id: uuid.UUID, reason: str) -> int:
        """Gives the files of a batch whose run died back to discovery (attempts unchanged: a
        crash is not the file's fault). Call only once the batch is known not to be committed.
        """
        return self._release(batch_id, BatchStatus.ABANDONED, reason)

    def stale_batches(self, older_than: timedelta) -> list[uuid.UUID]:
        """Batches still claimed after `older_than`: candidates for recovery."""
        rows = self.session.execute(
            text(
                "SELECT id FROM batches WHERE status = 'claimed'"
                " AND started_at < now() - CAST(:age AS interval) ORDER BY started_at"
            ),
            {"age": f"{older_than.total_seconds()} seconds"},
        ).all()
        return [row.id for row in rows]

    def batches_of_runs(self, flow_run_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
        """The batches still claimed by the given (dead) flow runs."""
        rows = self.session.execute(
            text(
                "SELECT id FROM batches WHERE status = 'claimed'"
                " AND flow_run_id = ANY(CAST(:runs AS uuid[]))"
            ),
            {"runs": list(flow_run_ids)},
        ).all()
        return [row.id for row in rows]

    def _release(self, batch_id: uuid.UUID, status: BatchStatus, reason: str) -> int:
        self._batch_status(batch_id)
        released = self._modify(
            text(
                "UPDATE files SET status = 'discovered', batch_id = NULL, updated_at = now()"
                " WHERE batch_id = :batch AND status = 'claimed'"
            ),
            {"batch": batch_id},
        )
        self.session.execute(
            text(
                "UPDATE batches SET status = :status, error = :reason, ended_at = now()"
                " WHERE id = :batch AND status = 'claimed'"
            ),
            {"status": status.value, "reason": scrub(reason), "batch": batch_id},
        )
        return released

    def _batch_status(self, batch_id: uuid.UUID) -> BatchStatus:
        status = self.session.execute(
            text("SELECT status FROM batches WHERE id = :id FOR UPDATE"), {"id": batch_id}
        ).scalar_one_or_none()
        if status is None:
            raise NotFound(f"batch {batch_id} does not exist")
        return BatchStatus(status)

    # -- reprocessing ------------------------------------------------------------------------

    def reprocess(
        self,
        ingestion_id: uuid.UUID,
        statuses: Sequence[FileStatus] = (FileStatus.FAILED,),
        path_glob: str | None = None,
        modified_after: datetime | None = None,
        modified_before: datetime | None = None,
        file_ids: Sequence[int] | None = None,
        dry_run: bool = False,
    ) -> int:
        """Sends matching files back to discovery with their attempts reset; returns how many.

        Claimed files are never touched. `path_glob` uses `*` and `?` (`*` crosses `/`).
        """
        if FileStatus.CLAIMED in statuses:
            raise ValueError("claimed files belong to a running batch and cannot be reprocessed")
        # A file source cleanup removed cannot be read again; its path returns as a new file
        # if something is written there.
        where = [
            "ingestion_id = :ingestion",
            "status = ANY(CAST(:statuses AS text[]))",
            "cleaned_at IS NULL",
        ]
        params: dict[str, Any] = {
            "ingestion": ingestion_id,
            "statuses": [status.value for status in statuses],
        }
        if path_glob:
            where.append("path LIKE :pattern ESCAPE '\\'")
            params["pattern"] = glob_to_like(path_glob)
        if modified_after:
            where.append("modified_at >= :after")
            params["after"] = modified_after
        if modified_before:
            where.append("modified_at < :before")
            params["before"] = modified_before
        if file_ids is not None:
            where.append("id = ANY(CAST(:ids AS bigint[]))")
            params["ids"] = list(file_ids)
        condition = " AND ".join(where)
        if dry_run:
            return int(
                self.session.execute(
                    text(f"SELECT count(*) FROM files WHERE {condition}"), params
                ).scalar_one()
            )
        return self._modify(
            text(
                "UPDATE files SET status = 'discovered', attempts = 0, last_error = NULL,"
                f" error_category = NULL, batch_id = NULL, updated_at = now() WHERE {condition}"
            ),
            params,
        )

    def _modify(self, statement: TextClause, params: Mapping[str, Any]) -> int:
        """Runs an UPDATE or DELETE and returns how many rows it changed."""
        result = cast(CursorResult[Any], self.session.execute(statement, params))
        return int(result.rowcount)

    def counts(self, ingestion_id: uuid.UUID) -> dict[FileStatus, int]:
        rows = self.session.execute(
            text("SELECT status, count(*) AS n FROM files WHERE ingestion_id = :i GROUP BY status"),
            {"i": ingestion_id},
        ).all()
        return {FileStatus(row.status): int(row.n) for row in rows}

    def pending_bytes(
        self, ingestion_id: uuid.UUID, max_attempts: int = DEFAULT_MAX_ATTEMPTS
    ) -> int:
        """Bytes of the files a run would still claim (the backlog that routes a run)."""
        value = self.session.execute(
            text(
                "SELECT coalesce(sum(size), 0) FROM files WHERE ingestion_id = :i"
                " AND (status = 'discovered' OR (status = 'failed' AND attempts < :attempts))"
            ),
            {"i": ingestion_id, "attempts": max_attempts},
        ).scalar_one()
        return int(value)


def like_escape(text: str) -> str:
    """`text` as a LIKE pattern that matches only itself (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def glob_to_like(glob: str) -> str:
    """`year=2026/*.csv` -> `year=2026/%.csv`, with LIKE's own wildcards escaped."""
    return like_escape(glob).replace("**", "*").replace("*", "%").replace("?", "_")
