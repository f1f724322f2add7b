"""Loading one claimed batch of files into its Iceberg table, exactly once.

The worker is only a client: Spark reads the files from storage and commits to Iceberg. The
append carries the batch id in the snapshot summary, so recovery can tell whether a batch whose
process died was committed (see find_committed_batch).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import reduce
from urllib.parse import unquote

from autoloader_metadata.failures import ErrorCategory, FileFailure
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, DataFrameReader, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, NumericType, StringType, StructField, StructType

from autoloader_spark import formats, names, table
from autoloader_spark.blame import blamed_file
from autoloader_spark.classify import classify
from autoloader_spark.errors import FileRejected, NewColumnsRejected, SparkLoadError, TypeConflict
from autoloader_spark.formats import CORRUPT_COLUMN, ReadSpec
from autoloader_spark.identifiers import TableRef, quote, quote_column, sql_string
from autoloader_spark.options import CorruptRecords
from autoloader_spark.paths import load_files, spark_file_uri
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
    column_names: str = names.KEEP
    max_file_bytes: int | None = None
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
    failed: dict[int, FileFailure] = field(default_factory=dict)
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
    """Appends the files to the table in one Iceberg commit. A file that an error names (or that
    is refused before reading: too large, a header that cannot load) is left out with its
    reason, and the rest loaded; new columns follow the evolution mode. An error that names no
    file is raised: the caller isolates the culprit (autoloader_ingest.batches).

    `read_roots`, folders that hold the batch's files and few others, lets Spark list them with a
    handful of LIST calls and keep the batch's files by path, instead of asking for each file's
    status one by one (thousands of small files would otherwise cost thousands of requests).
    """
    outcome = BatchOutcome()
    remaining: list[FileToLoad] = []
    empty: list[FileToLoad] = []
    for file in files:
        refused = _refused_unread(spec, file)
        if refused is not None:
            outcome.failed[file.id] = refused
        elif file.size == 0:
            empty.append(file)  # a CSV, JSON or text file of no bytes holds no rows
        else:
            remaining.append(file)
    headers: dict[str, list[str]] = {}
    while remaining:
        try:
            _append(spark, spec, batch_id, remaining, outcome, read_roots, headers)
            break
        except FileRejected as rejected:
            bad = next(f for f in remaining if f.spark_path == rejected.path)
            outcome.failed[bad.id] = rejected.failure
        except PySparkException as error:
            index = blamed_file(str(error), [f.spark_path for f in remaining])
            if index is None:
                raise
            bad = remaining[index]
            if spec.read.format == "csv" and bad.spark_path not in headers:
                # Not in the sample: its header may differ, and is read before it is blamed.
                try:
                    headers[bad.spark_path] = formats.csv_header(
                        spark, spec.read, bad.spark_path, spec.query_timeout
                    )
                    continue
                except FileRejected as rejected:
                    outcome.failed[bad.id] = rejected.failure
            else:
                outcome.failed[bad.id] = classify(error)
        remaining = [f for f in remaining if f.id not in outcome.failed]
    if remaining:
        only = remaining[0].spark_path if len(remaining) == 1 else None
        committed = find_committed_batch(spark, spec, batch_id, only)
        if committed is None:
            raise SparkLoadError(f"batch {batch_id} was appended, but no snapshot names it")
        outcome.snapshot_id = committed.snapshot_id
        outcome.rows_per_file = committed.rows_per_file({f.spark_path: f.id for f in remaining})
    outcome.rows_per_file.update({f.id: 0 for f in empty})
    return outcome


def _refused_unread(spec: LoadSpec, file: FileToLoad) -> FileFailure | None:
    """A file that fails before Spark reads it: past the size limit, or a binary format's
    empty file (which is no Parquet, Avro or ORC file at all)."""
    if spec.max_file_bytes is not None and (file.size or 0) > spec.max_file_bytes:
        return FileFailure(
            ErrorCategory.TOO_LARGE,
            f"the file has {file.size:,} bytes, over the ingestion's limit of "
            f"{spec.max_file_bytes:,} (batch.max_file_bytes)",
        )
    if file.size == 0 and spec.read.format not in formats.TEXT_FORMATS:
        return FileFailure(
            ErrorCategory.MALFORMED, f"the file is empty (0 bytes): not a {spec.read.format} file"
        )
    return None


def _append(
    spark: SparkSession,
    spec: LoadSpec,
    batch_id: str,
    files: Sequence[FileToLoad],
    outcome: BatchOutcome,
    read_roots: Sequence[str] | None,
    headers: dict[str, list[str]],
) -> None:
    seconds = spec.query_timeout
    paths = [f.spark_path for f in files]
    existing = table.table_schema(spark, spec.table, seconds)
    reserved = spec.metadata.names() | {CORRUPT_COLUMN, RESCUED_COLUMN}
    known = _data_columns(existing, reserved) if existing is not None else spec.schema
    sample = _sample(spark, spec, paths, headers)
    renamed = names.table_names(sample.fieldNames(), spec.column_names)
    sample = StructType([StructField(renamed[f.name], f.dataType, True) for f in sample.fields])
    if known is not None and spec.read.infers_types:
        _check_types(known, sample)
    new = [f for f in sample.fields if known is not None and f.name not in known.fieldNames()]
    if new and spec.evolution == "fail_on_new_columns":
        raise NewColumnsRejected([f.name for f in new])
    base = known if known is not None else sample
    read_schema = StructType(
        [*base.fields, *(new if spec.evolution in ("add_new_columns", "rescue") else [])]
    )
    frame = _read(spark, spec, batch_id, files, read_schema, renamed, headers, read_roots)
    if spec.evolution == "rescue" and new:
        rescued = F.to_json(F.struct(*[F.col(quote_column(f.name)) for f in new]))
        frame = frame.withColumn(RESCUED_COLUMN, rescued).drop(
            *[F.col(quote_column(f.name)) for f in new]
        )
    if spec.read.tracks_corrupt_records and spec.read.corrupt_records is CorruptRecords.DROP:
        # Spark refuses a query of raw files that reads only the corrupt-record column, so the
        # count also reads a data column (in a nullable expression the optimizer cannot drop).
        first_column = F.col(quote_column(read_schema.fields[0].name)).cast("string")
        anchor = F.coalesce(first_column, F.col(CORRUPT_COLUMN))
        corrupt = frame.where(F.col(CORRUPT_COLUMN).isNotNull()).agg(F.count(anchor))
        counted = with_deadline(spark, corrupt.first, seconds, "counting corrupt records")
        outcome.dropped_records += int(counted[0]) if counted else 0
        frame = frame.where(F.col(CORRUPT_COLUMN).isNull()).drop(CORRUPT_COLUMN)
    read_frame = frame
    present = with_deadline(spark, lambda: read_frame.schema, seconds, "analysing the read")
    if existing is None:
        table.create_table(spark, spec.table, present, spec.partitioning, spec.properties, seconds)
        existing = present
    missing = [f for f in present.fields if f.name not in existing.fieldNames()]
    table.add_columns(spark, spec.table, missing, seconds)
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
    outcome.schema_after = table.table_schema(spark, spec.table, seconds)


def _read(
    spark: SparkSession,
    spec: LoadSpec,
    batch_id: str,
    files: Sequence[FileToLoad],
    read_schema: StructType,
    renamed: Mapping[str, str],
    headers: Mapping[str, list[str]],
    read_roots: Sequence[str] | None,
) -> DataFrame:
    """The batch's rows with lineage columns, in the table's column names. CSV files are read
    in groups of equal headers (CSV maps columns by position), and the groups put together by
    name."""
    file_names = {table_name: name for name, table_name in renamed.items()}
    groups = _csv_groups(files, headers) if spec.read.format == "csv" else [(None, list(files))]
    frames = []
    for header, group in groups:
        group_schema = _renamed(read_schema, file_names)
        if header is not None:
            group_schema = in_header_order(group_schema, header)
        paths = [f.spark_path for f in group]
        headers_read = header is not None and all(p in headers for p in paths)
        read = formats.reader(spark, spec.read, group_schema, headers_read)
        frame = None
        if read_roots and len(groups) == 1:
            frame = _read_by_folder(read, paths, read_roots, spec.query_timeout)
        if frame is None:
            frame = load_files(read, paths)
        # Lineage first: Spark's hidden _metadata column does not survive a projection.
        frame = _with_metadata(frame, spec.metadata, batch_id, group)
        frames.append(_renamed_frame(frame, renamed))
    if len(frames) == 1:
        return frames[0]
    united = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)
    # The data columns first, as the schema orders them, then the corrupt and lineage columns.
    data = [name for name in read_schema.fieldNames() if name in united.columns]
    rest = [name for name in united.columns if name not in data]
    return united.select(*[F.col(quote_column(name)) for name in data + rest])


def _sample(
    spark: SparkSession, spec: LoadSpec, paths: Sequence[str], headers: dict[str, list[str]]
) -> StructType:
    """The columns of the batch's first files, in the files' own names. A CSV's header is read
    per file (and kept in `headers`: files whose headers differ are read apart)."""
    sampled = paths[:SAMPLE_FILES]
    if spec.read.format != "csv":
        return formats.sample_schema(spark, spec.read, sampled, spec.query_timeout)
    for path in sampled:  # one by one: what was read stays known when a file is rejected
        if path not in headers:
            headers[path] = formats.csv_header(spark, spec.read, path, spec.query_timeout)
    columns = formats.header_schema(headers[p] for p in paths if p in headers)
    if not spec.read.infers_csv_types:
        return columns
    inferred = formats.sample_schema(spark, spec.read, sampled, spec.query_timeout)
    types = {f.name: f.dataType for f in inferred.fields}
    return StructType([StructField(f.name, types.get(f.name, f.dataType)) for f in columns])


def _check_types(known: StructType, sample: StructType) -> None:
    """TypeConflict for a column the table types as a number or a boolean that the files hold
    as text: read as the table's type, its values would be nulls nobody sees. (Text is how a
    JSON file writes dates and timestamps: Spark parses those, and they pass.)"""
    table_types = {f.name.casefold(): f.dataType for f in known.fields}
    conflicts = {
        f.name: (table_types[f.name.casefold()].simpleString(), "string")
        for f in sample.fields
        if isinstance(f.dataType, StringType)
        and isinstance(table_types.get(f.name.casefold()), NumericType | BooleanType)
    }
    if conflicts:
        raise TypeConflict(conflicts)


def _csv_groups(
    files: Sequence[FileToLoad], headers: Mapping[str, list[str]]
) -> list[tuple[StructType, list[FileToLoad]]]:
    """The batch's CSV files by header, in order of appearance; a file whose header was not
    read goes with the first file's (a file that differs fails the read, naming itself, and
    load_batch reads its header then)."""
    groups: dict[tuple[str, ...], list[FileToLoad]] = {}
    unread: list[FileToLoad] = []
    for file in files:
        header = headers.get(file.spark_path)
        if header is None:
            unread.append(file)
        else:
            groups.setdefault(tuple(header), []).append(file)
    if not groups:
        raise SparkLoadError("no header of the batch's CSV files was read")
    next(iter(groups.values())).extend(unread)
    return [
        (StructType([StructField(n, StringType(), True) for n in header]), group)
        for header, group in groups.items()
    ]


def _renamed(schema: StructType, names_: Mapping[str, str]) -> StructType:
    return StructType(
        [StructField(names_.get(f.name, f.name), f.dataType, f.nullable) for f in schema.fields]
    )


def _renamed_frame(frame: DataFrame, table_names: Mapping[str, str]) -> DataFrame:
    if all(name == target for name, target in table_names.items()):
        return frame
    return frame.select(
        *[
            F.col(quote_column(column)).alias(table_names.get(column, column))
            for column in frame.columns
        ]
    )


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
    read: DataFrameReader, paths: Sequence[str], read_roots: Sequence[str], seconds: float
) -> DataFrame | None:
    """The batch's files read by listing their folders and keeping them by path; None (read
    them one by one) when Spark's listing does not show every one of them under the name
    expected, for a file the filter missed would load no rows and pass for empty."""
    folders = load_files(read.option("recursiveFileLookup", "true"), read_roots)
    wanted = {spark_file_uri(path) for path in paths}
    listed = with_deadline(
        folders.sparkSession, folders.inputFiles, seconds, "listing the batch's folders"
    )
    unlisted = wanted - set(listed)
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


def _normal(path: str) -> str:
    return unquote(path).rstrip("/")
