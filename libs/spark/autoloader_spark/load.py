"""Loading one claimed batch of files into its Iceberg table, exactly once.

The worker is only a client: Spark reads the files from storage and commits to Iceberg. The
append carries the batch id in the snapshot summary, so recovery can tell whether a batch whose
process died was committed (see find_committed_batch).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import unquote

from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, DataFrameReader, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from autoloader_spark import formats, table
from autoloader_spark.errors import NewColumnsRejected
from autoloader_spark.formats import CORRUPT_COLUMN, ReadSpec
from autoloader_spark.identifiers import TableRef, quote, sql_string
from autoloader_spark.options import CorruptRecords
from autoloader_spark.paths import literal, load_files, spark_file_uri
from autoloader_spark.session import cluster_parallelism, with_deadline

log = logging.getLogger(__name__)

BATCH_PROPERTY = "autoloader.batch-id"
RESCUED_COLUMN = "_rescued_data"
SAMPLE_FILES = 10
# The bytes of input per write task for a batch of many files, as Spark splits a large file.
WRITE_PARTITION_BYTES = 128 * 1024 * 1024


@dataclass(frozen=True)
class MetadataColumns:
    source_file: str = "_source_file"
    source_modified_at: str = "_source_modified_at"
    batch_id: str = "_batch_id"
    ingested_at: str = "_ingested_at"

    def names(self) -> set[str]:
        return {self.source_file, self.source_modified_at, self.batch_id, self.ingested_at}


@dataclass(frozen=True)
class LoadSpec:
    read: ReadSpec
    table: TableRef
    evolution: str = "add_new_columns"  # add_new_columns | rescue | fail_on_new_columns | ignore
    schema: StructType | None = None  # explicit, or stored after the first inference
    partitioning: Sequence[str] = ()
    properties: Mapping[str, str] = field(default_factory=dict)
    metadata: MetadataColumns = MetadataColumns()
    write_timeout: float = 3600.0
    query_timeout: float = 600.0


@dataclass(frozen=True)
class FileToLoad:
    id: int
    spark_path: str
    modified_at: datetime | None = None  # as listed; lets a lone file's columns be constants
    size: int | None = None  # bytes, as listed; sizes the write of a batch of many files


@dataclass
class BatchOutcome:
    snapshot_id: int | None = None
    rows_per_file: dict[int, int] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)
    new_columns: list[str] = field(default_factory=list)
    schema_after: StructType | None = None
    dropped_records: int = 0


@dataclass(frozen=True)
class CommittedBatch:
    snapshot_id: int
    rows_per_path: dict[str, int]  # keyed by the paths as the table's source-file column has them

    def rows_per_file(self, files: Mapping[str, int]) -> dict[int, int]:
        """Rows per file id, for files given as {Spark path: id}; a file with no rows has 0."""
        ids = {_normal(spark_file_uri(path)): file_id for path, file_id in files.items()}
        rows = {file_id: 0 for file_id in files.values()}
        for path, count in self.rows_per_path.items():
            file_id = ids.get(_normal(path))
            if file_id is None:
                log.warning(
                    "%d rows of snapshot %d name %s, not a file of the batch",
                    count,
                    self.snapshot_id,
                    path,
                )
            else:
                rows[file_id] = count
        return rows


def load_batch(
    spark: SparkSession,
    spec: LoadSpec,
    batch_id: str,
    files: Sequence[FileToLoad],
    read_roots: Sequence[str] | None = None,
) -> BatchOutcome:
    """Appends the files to the table in one Iceberg commit. A file that cannot be read is left
    out with its reason (and the rest loaded); new columns follow the evolution mode.

    `read_roots`, folders that hold the batch's files and few others, lets Spark list them with a
    handful of LIST calls and keep the batch's files by path, instead of asking for each file's
    status one by one (thousands of small files would otherwise cost thousands of requests).
    """
    outcome = BatchOutcome()
    remaining = list(files)
    while remaining:
        try:
            _append(spark, spec, batch_id, remaining, outcome, read_roots)
            break
        except PySparkException as error:
            bad = _failed_file(error, remaining)
            if bad is None:
                raise
            outcome.failed[bad.id] = _reason(error)
            remaining = [f for f in remaining if f.id != bad.id]
    if remaining:
        only = remaining[0].spark_path if len(remaining) == 1 else None
        committed = find_committed_batch(spark, spec, batch_id, only)
        if committed is not None:
            outcome.snapshot_id = committed.snapshot_id
            outcome.rows_per_file = committed.rows_per_file({f.spark_path: f.id for f in remaining})
    return outcome


def _append(
    spark: SparkSession,
    spec: LoadSpec,
    batch_id: str,
    files: Sequence[FileToLoad],
    outcome: BatchOutcome,
    read_roots: Sequence[str] | None,
) -> None:
    paths = [f.spark_path for f in files]
    existing = table.table_schema(spark, spec.table)
    reserved = spec.metadata.names() | {CORRUPT_COLUMN, RESCUED_COLUMN}
    known = _data_columns(existing, reserved) if existing is not None else spec.schema
    sample = formats.sample_schema(spark, spec.read, paths[:SAMPLE_FILES])
    new = [f for f in sample.fields if known is not None and f.name not in known.fieldNames()]
    if new and spec.evolution == "fail_on_new_columns":
        raise NewColumnsRejected([f.name for f in new])
    base = known if known is not None else sample
    read_schema = StructType(
        [*base.fields, *(new if spec.evolution in ("add_new_columns", "rescue") else [])]
    )
    if spec.read.format == "csv":
        read_schema = in_header_order(read_schema, sample)
    read = formats.reader(spark, spec.read, read_schema)
    frame = _read_by_folder(read, paths, read_roots) if read_roots else None
    if frame is None:
        frame = load_files(read, paths)
    frame = _with_metadata(frame, spec.metadata, batch_id, files)
    if spec.evolution == "rescue" and new:
        rescued = F.to_json(F.struct(*[F.col(quote(f.name)) for f in new]))
        frame = frame.withColumn(RESCUED_COLUMN, rescued).drop(*[f.name for f in new])
    if spec.read.tracks_corrupt_records and spec.read.corrupt_records is CorruptRecords.DROP:
        # Spark refuses a query of raw files that reads only the corrupt-record column, so the
        # count also reads a data column (in a nullable expression the optimizer cannot drop).
        first_column = F.col(quote(read_schema.fields[0].name)).cast("string")
        anchor = F.coalesce(first_column, F.col(CORRUPT_COLUMN))
        corrupt = frame.where(F.col(CORRUPT_COLUMN).isNotNull()).agg(F.count(anchor))
        counted = with_deadline(
            spark, corrupt.first, spec.query_timeout, "counting corrupt records"
        )
        outcome.dropped_records += int(counted[0]) if counted else 0
        frame = frame.where(F.col(CORRUPT_COLUMN).isNull()).drop(CORRUPT_COLUMN)
    if existing is None:
        table.create_table(spark, spec.table, frame.schema, spec.partitioning, spec.properties)
        existing = frame.schema
    present = frame.schema  # one analysis round trip
    missing = [f for f in present.fields if f.name not in existing.fieldNames()]
    table.add_columns(spark, spec.table, missing)
    # Columns the table has and these files lack load as nulls.
    absent = [c for c in existing.fields if c.name not in present.fieldNames()]
    if absent:
        frame = frame.select("*", *[F.lit(None).cast(c.dataType).alias(c.name) for c in absent])
    partitions = write_partitions(files, cluster_parallelism(spark)) if len(files) > 1 else None
    if partitions is not None:
        frame = frame.coalesce(partitions)
    writer = frame.writeTo(spec.table.sql).option(f"snapshot-property.{BATCH_PROPERTY}", batch_id)
    with_deadline(spark, writer.append, spec.write_timeout, f"appending batch {batch_id}")
    outcome.new_columns = [f.name for f in new] if spec.evolution == "add_new_columns" else []
    outcome.schema_after = table.table_schema(spark, spec.table)


def write_partitions(files: Sequence[FileToLoad], parallelism: int) -> int | None:
    """How many tasks should write a batch of many files, or None to leave Spark's split.

    Spark packs small files about 32 to a task (it counts each as 4 MB), and each task writes
    its own data file: 10,000 files of 1 KB became 313 data files of a few KB, slow to write and
    slower to query. Merging the read's partitions to one per 128 MB of input, and at least one
    per core, writes a few large files instead; it never splits further than Spark did.
    """
    if any(f.size is None for f in files):
        return None
    total = sum(f.size or 0 for f in files)
    wanted = max(parallelism, -(-total // WRITE_PARTITION_BYTES))
    return wanted if wanted < len(files) else None


def _read_by_folder(
    read: DataFrameReader, paths: Sequence[str], read_roots: Sequence[str]
) -> DataFrame | None:
    """The batch's files read by listing their folders and keeping them by path; None (read
    them one by one) when Spark's listing does not show every one of them under the name
    expected, for a file the filter missed would load no rows and pass for empty."""
    folders = load_files(read.option("recursiveFileLookup", "true"), read_roots)
    wanted = {spark_file_uri(path) for path in paths}
    unlisted = wanted - set(folders.inputFiles())
    if unlisted:
        log.warning(
            "%d of the batch's files are not in Spark's listing of %s as expected (such as %s); "
            "reading the files one by one",
            len(unlisted),
            ", ".join(read_roots),
            min(unlisted),
        )
        return None
    return folders.where(F.col("_metadata.file_path").isin(sorted(wanted)))


def find_committed_batch(
    spark: SparkSession, spec: LoadSpec, batch_id: str, only_path: str | None = None
) -> CommittedBatch | None:
    """The snapshot that committed `batch_id` and its rows per source file, or None.

    For a batch of one file (`only_path`), the snapshot summary's record count is that file's,
    and no data is scanned.
    """
    if table.table_schema(spark, spec.table) is None:
        return None
    snapshots = spec.table.metadata_table("snapshots")
    rows = with_deadline(
        spark,
        spark.sql(
            f"SELECT snapshot_id, summary['added-records'] AS added FROM {snapshots} "
            f"WHERE summary[{sql_string(BATCH_PROPERTY)}] = "
            f"{sql_string(batch_id)}"
        ).collect,
        spec.query_timeout,
        "looking up the batch's snapshot",
    )
    if not rows:
        return None
    snapshot_id = int(rows[0]["snapshot_id"])
    if only_path is not None:
        return CommittedBatch(snapshot_id, {spark_file_uri(only_path): int(rows[0]["added"] or 0)})
    meta = spec.metadata
    counts = with_deadline(
        spark,
        spark.sql(
            f"SELECT {quote(meta.source_file)} AS path, count(*) AS n FROM {spec.table.sql} "
            f"WHERE {quote(meta.batch_id)} = {sql_string(batch_id)} GROUP BY 1"
        ).collect,
        spec.query_timeout,
        "counting the batch's rows per file",
    )
    return CommittedBatch(snapshot_id, {r["path"]: int(r["n"]) for r in counts})


def delete_batches(
    spark: SparkSession, spec: LoadSpec, batch_ids: Sequence[str], chunk: int = 500
) -> int:
    """Deletes the rows of the given batches from the table (a full refresh); returns how many.
    Idempotent: deleting again finds nothing."""
    if not batch_ids or table.table_schema(spark, spec.table) is None:
        return 0
    column = quote(spec.metadata.batch_id)
    deleted = 0
    for start in range(0, len(batch_ids), chunk):
        where = (
            f"{column} IN ({', '.join(sql_string(b) for b in batch_ids[start : start + chunk])})"
        )
        counted = with_deadline(
            spark,
            spark.sql(f"SELECT count(*) AS n FROM {spec.table.sql} WHERE {where}").collect,
            spec.query_timeout,
            "counting the rows a refresh deletes",
        )
        deleted += int(counted[0]["n"])
        with_deadline(
            spark,
            spark.sql(f"DELETE FROM {spec.table.sql} WHERE {where}").collect,
            spec.write_timeout,
            "deleting the rows of a full refresh",
        )
    return deleted


def _with_metadata(
    frame: DataFrame, meta: MetadataColumns, batch_id: str, files: Sequence[FileToLoad]
) -> DataFrame:
    """Adds the lineage columns. A batch of one file (a large file, typically) gets its path and
    listed time as constants: Spark's _metadata column adds a copy of every row to the scan, and
    with one file the values are known without it."""
    lone = files[0] if len(files) == 1 else None
    if lone is not None and lone.modified_at is not None:
        source_file = F.lit(spark_file_uri(lone.spark_path))
        source_modified_at = F.lit(lone.modified_at)
    else:
        source_file = F.col("_metadata.file_path")
        source_modified_at = F.col("_metadata.file_modification_time")
    return frame.select(
        "*",
        source_file.alias(meta.source_file),
        source_modified_at.alias(meta.source_modified_at),
        F.lit(batch_id).alias(meta.batch_id),
        F.lit(datetime.now(UTC)).alias(meta.ingested_at),
    )


def _data_columns(schema: StructType, reserved: set[str]) -> StructType:
    return StructType([f for f in schema.fields if f.name not in reserved])


def in_header_order(schema: StructType, header: StructType) -> StructType:
    """CSV maps columns by position: order the schema as the files' header names them."""
    by_name = {f.name: f for f in schema.fields}
    ordered = [by_name.get(f.name, StructField(f.name, StringType(), True)) for f in header.fields]
    return StructType(ordered)


def _failed_file(error: Exception, files: Sequence[FileToLoad]) -> FileToLoad | None:
    """The batch file a read error names, if it names one."""
    message = str(error)
    decoded = unquote(message)
    for candidate in files:
        named = (candidate.spark_path, literal(candidate.spark_path))
        if any(name in message or name in decoded for name in named):
            return candidate
    return None


def _reason(error: PySparkException) -> str:
    """The Spark condition and the real cause, which hides in the message text."""
    condition = error.getCondition() or type(error).__name__
    message = str(error)
    causes = re.findall(r"(?:Caused by: |\n)([A-Za-z.]+(?:Exception|Error)[^\n]*)", message)
    cause = causes[-1] if causes else message.strip().splitlines()[0]
    return f"{condition}: {cause[:500]}"


def _normal(path: str) -> str:
    return unquote(path).rstrip("/")
