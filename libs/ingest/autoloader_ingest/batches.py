"""Loading a claimed batch and recording its outcome in the ledger; recovering dead batches.

The order is what makes a load exactly-once: Iceberg commits the batch (its id in the snapshot
summary) and only then does the ledger mark it loaded. A process that dies in between leaves the
batch claimed; recover_batch() looks for its snapshot and either marks it loaded (committed) or
releases its files (not committed), never both.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from autoloader_metadata.db import transaction
from autoloader_metadata.enums import RewrittenFilePolicy, WriteMode
from autoloader_metadata.failures import ErrorCategory, FileFailure
from autoloader_metadata.ledger import DEFAULT_MAX_ATTEMPTS, ClaimedBatch, FileLedger, like_escape
from autoloader_metadata.models import LedgerFile, SchemaVersion
from autoloader_model.ingestion import Ingestion
from pyspark.sql import SparkSession
from pyspark.sql.types import StructType
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from autoloader_spark.classify import classify
from autoloader_spark.conditions import parse_condition
from autoloader_spark.formats import ReadSpec
from autoloader_spark.identifiers import TableRef
from autoloader_spark.load import (
    BatchOutcome,
    FileToLoad,
    LoadSpec,
    find_committed_batch,
    load_batch,
)
from autoloader_storage.uri import spark_path_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchResult:
    batch_id: uuid.UUID
    loaded_files: int
    failed_files: int
    rows: int
    snapshot_id: int | None  # of the last part, when the batch was split
    dropped_records: int = 0
    parts: int = 1
    warnings: tuple[str, ...] = ()

    @classmethod
    def combined(cls, batch_id: uuid.UUID, parts: list[BatchResult]) -> BatchResult:
        snapshots = [p.snapshot_id for p in parts if p.snapshot_id is not None]
        return cls(
            batch_id=batch_id,
            loaded_files=sum(p.loaded_files for p in parts),
            failed_files=sum(p.failed_files for p in parts),
            rows=sum(p.rows for p in parts),
            snapshot_id=snapshots[-1] if snapshots else None,
            dropped_records=sum(p.dropped_records for p in parts),
            parts=sum(p.parts for p in parts),
            warnings=tuple(dict.fromkeys(w for p in parts for w in p.warnings)),  # once each
        )


def load_spec(
    ingestion: Ingestion,
    stored_schema: StructType | None = None,
    access: Mapping[str, str] | None = None,
) -> LoadSpec:
    """What Spark does for the ingestion; `access`: the Hadoop settings that read its source
    with its own identity (ReachPolicy.spark_access), needed only where files are read."""
    wanted, destination = ingestion.spec.format, ingestion.spec.destination
    schema = _parse_ddl(wanted.schema_ddl) if wanted.schema_ddl else stored_schema
    source = ingestion.spec.source
    return LoadSpec(
        read=ReadSpec(
            wanted.type.value, ingestion.reader_options, wanted.corrupt_records, access or {}
        ),
        table=TableRef(destination.catalog, destination.namespace, destination.table),
        evolution=wanted.schema_evolution.value,
        schema=schema,
        partitioning=list(destination.partitioning),
        properties=dict(destination.properties),
        metadata=destination.metadata_columns,
        schema_hints=_parse_ddl(wanted.schema_hints) if wanted.schema_hints else None,
        path_columns=list(source.path_columns),
        replaces_rewritten=source.rewritten_files is RewrittenFilePolicy.REPLACE,
        merge_keys=list(destination.keys) if destination.write_mode is WriteMode.MERGE else [],
        delete_when=parse_condition(destination.delete_when) if destination.delete_when else None,
        column_names=wanted.column_names.value,
        max_file_bytes=ingestion.spec.batch.max_file_bytes,
    )


def load_claimed_batch(
    sessions: sessionmaker[Session],
    spark: SparkSession,
    ingestion: Ingestion,
    batch: ClaimedBatch,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    *,
    access: Mapping[str, str],
) -> BatchResult:
    """Loads the batch and records its outcome. A failure that names no file and is not the
    cluster's (a column name, a file that breaks the read without saying so) splits the batch
    in halves, each loaded on its own, down to the one file to blame: the good files load in
    this run, each part in its own Iceberg snapshot tagged with its own batch id.

    `access`: the Hadoop settings that read the source with the ingestion's identity
    (ReachPolicy.spark_access); required, so that no caller reads with the cluster's by default."""
    spec = load_spec(ingestion, _stored_schema(sessions, ingestion.id), access)
    files = [
        FileToLoad(f.id, spark_path_of(f.path), f.modified_at, f.size, f.replaces_rows, f.etag)
        for f in batch.files
    ]
    paths = {f.id: f.path for f in batch.files}
    part = _Part(sessions, spark, ingestion, spec, max_attempts, paths)
    return part.load(batch.id, files)


@dataclass(frozen=True)
class _Part:
    """What every part of one claimed batch shares while it is loaded and split."""

    sessions: sessionmaker[Session]
    spark: SparkSession
    ingestion: Ingestion
    spec: LoadSpec
    max_attempts: int
    paths: dict[int, str]  # file id -> ledger path

    def load(self, batch_id: uuid.UUID, files: list[FileToLoad]) -> BatchResult:
        with self.sessions() as session:
            roots = read_roots(session, self.ingestion.id, [self.paths[f.id] for f in files])
        try:
            outcome = load_batch(self.spark, self.spec, str(batch_id), files, roots)
        except Exception as error:
            failure = classify(error)
            if failure.category is ErrorCategory.TRANSIENT:
                raise  # the task retries; the caller settles the batch against the table first
            if find_committed_batch(self.spark, self.spec, str(batch_id)) is not None:
                raise  # committed before the error: recovery marks it loaded, never twice
            if len(files) > 1 and failure.category not in NOT_A_FILES_FAULT:
                return self._split(batch_id, files, failure)
            log.info("batch %s: %d file(s) failed: %s", batch_id, len(files), failure)
            outcome = BatchOutcome(failed={f.id: failure for f in files})
        return self._record(batch_id, outcome)

    def _split(
        self, batch_id: uuid.UUID, files: list[FileToLoad], failure: FileFailure
    ) -> BatchResult:
        halves = [files[: len(files) // 2], files[len(files) // 2 :]]
        with transaction(self.sessions) as session:
            part_ids = FileLedger(session).split_batch(
                batch_id,
                [[f.id for f in half] for half in halves],
                f"split to find the file to blame for: {failure}",
            )
        log.info(
            "batch %s: %s names no file; split into %s and %s",
            batch_id,
            failure,
            *(f"{part} ({len(half)} files)" for part, half in zip(part_ids, halves, strict=True)),
        )
        results = []
        for part_id, half in zip(part_ids, halves, strict=True):
            try:
                results.append(self.load(part_id, half))
            except Exception:
                with contextlib.suppress(Exception):  # else the next run's recovery settles it
                    recover_batch(self.sessions, self.spark, self.ingestion, part_id)
                raise
        return BatchResult.combined(batch_id, results)

    def _record(self, batch_id: uuid.UUID, outcome: BatchOutcome) -> BatchResult:
        with transaction(self.sessions) as session:
            ledger = FileLedger(session)
            if outcome.failed:
                ledger.mark_files_failed(batch_id, outcome.failed, self.max_attempts)
            if outcome.rows_per_file:  # committed, or only files with no bytes
                ledger.mark_batch_loaded(
                    batch_id, outcome.snapshot_id, outcome.rows_per_file, outcome.rows
                )
                if outcome.snapshot_id is not None:
                    _record_schema(session, self.ingestion, batch_id, outcome)
            else:
                ledger.fail_batch(batch_id, "no file of the batch could be loaded")
        return BatchResult(
            batch_id=batch_id,
            loaded_files=len(outcome.rows_per_file),
            failed_files=len(outcome.failed),
            rows=outcome.rows,
            snapshot_id=outcome.snapshot_id,
            dropped_records=outcome.dropped_records,
            warnings=tuple(outcome.warnings),
        )


# Failures of the table or the store as a whole: splitting would only repeat them per file.
NOT_A_FILES_FAULT = frozenset({ErrorCategory.PERMISSION, ErrorCategory.NOT_FOUND})


# Reading whole folders pays off for many files, as long as the folders hold few others.
FOLDER_READ_MIN_FILES = 64
FOLDER_READ_MAX_FOLDERS = 16


def read_roots(session: Session, ingestion_id: uuid.UUID, paths: list[str]) -> list[str] | None:
    """The folders of a batch's files, for Spark to list, when the ledger shows they hold at most
    twice as many files as the batch; None when listing each file is the better deal."""
    folders = sorted({path.rsplit("/", 1)[0] for path in paths})
    if len(paths) < FOLDER_READ_MIN_FILES or len(folders) > FOLDER_READ_MAX_FOLDERS:
        return None
    under = 0
    for folder in folders:
        pattern = like_escape(folder) + "/%"
        under += (
            session.scalar(
                select(func.count())
                .select_from(LedgerFile)
                .where(
                    LedgerFile.ingestion_id == ingestion_id,
                    LedgerFile.path.like(pattern, escape="\\"),
                )
            )
            or 0
        )
    return [spark_path_of(folder) for folder in folders] if under <= 2 * len(paths) else None


def recover_batch(
    sessions: sessionmaker[Session], spark: SparkSession, ingestion: Ingestion, batch_id: uuid.UUID
) -> bool:
    """Settles a batch left claimed by a dead process; True when it had been committed."""
    committed = find_committed_batch(spark, load_spec(ingestion), str(batch_id))
    with transaction(sessions) as session:
        ledger = FileLedger(session)
        if committed is None:
            ledger.release_batch(batch_id, "the run died before its Iceberg commit")
            return False
        files = {
            spark_path_of(path): file_id
            for file_id, path in session.execute(
                select(LedgerFile.id, LedgerFile.path).where(LedgerFile.batch_id == batch_id)
            ).tuples()
        }
        ledger.mark_batch_loaded(
            batch_id,
            committed.snapshot_id,
            committed.rows_per_file(files),
            committed.added_records,
        )
        return True


def _parse_ddl(ddl: str) -> StructType:
    parsed = StructType.fromDDL(ddl)
    if not isinstance(parsed, StructType):
        raise ValueError(f"the schema {ddl!r} is not a list of columns")
    return parsed


def _stored_schema(sessions: sessionmaker[Session], ingestion_id: uuid.UUID) -> StructType | None:
    with sessions() as session:
        latest = session.scalar(
            select(SchemaVersion.table_schema)
            .where(SchemaVersion.ingestion_id == ingestion_id)
            .order_by(SchemaVersion.version.desc())
            .limit(1)
        )
    return StructType.fromJson(latest) if latest else None


def _record_schema(
    session: Session, ingestion: Ingestion, batch_id: uuid.UUID, outcome: BatchOutcome
) -> None:
    """Stores the table's schema when it is new: first inferred, or evolved by this batch."""
    if outcome.schema_after is None:
        return
    current = outcome.schema_after.jsonValue()
    latest = session.scalar(
        select(SchemaVersion)
        .where(SchemaVersion.ingestion_id == ingestion.id)
        .order_by(SchemaVersion.version.desc())
        .limit(1)
    )
    if latest is not None and latest.table_schema == current:
        return
    version = (
        session.scalar(
            select(func.max(SchemaVersion.version)).where(
                SchemaVersion.ingestion_id == ingestion.id
            )
        )
        or 0
    ) + 1
    session.add(
        SchemaVersion(
            ingestion_id=ingestion.id,
            version=version,
            table_schema=current,
            trigger=(
                "first batch"
                if latest is None
                else "widened types"
                if outcome.widened_columns and not outcome.new_columns
                else "new columns"
            ),
            batch_id=batch_id,
            resolution=(
                "created" if latest is None else ingestion.spec.format.schema_evolution.value
            ),
            change={
                "added_columns": outcome.new_columns,
                **({"widened_columns": outcome.widened_columns} if outcome.widened_columns else {}),
            },
        )
    )
