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
from pyspark.sql import Column, DataFrame, DataFrameReader, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    MapType,
    NumericType,
    StringType,
    StructField,
    StructType,
)

from autoloader_spark import evolution, formats, names, path_columns, table
from autoloader_spark.blame import blamed_file
from autoloader_spark.classify import classify
from autoloader_spark.conditions import Equals
from autoloader_spark.errors import (
    FileRejected,
    NewColumnsRejected,
    SchemaMismatch,
    SparkLoadError,
    TypeConflict,
)
from autoloader_spark.formats import CORRUPT_COLUMN, ReadSpec
from autoloader_spark.identifiers import TableRef, quote, quote_column, sql_string
from autoloader_spark.lineage import MetadataColumns
from autoloader_spark.merge import ROW_ORDER, merge_by_key, row_order
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
class LoadSpec:
    read: ReadSpec
    table: TableRef
    evolution: str = "add_new_columns"  # add_new_columns | rescue | fail_on_new_columns | ignore
    schema: StructType | None = None  # explicit, or stored after the first inference
    partitioning: Sequence[str] = ()
    properties: Mapping[str, str] = field(default_factory=dict)
    metadata: MetadataColumns = MetadataColumns()
    schema_hints: StructType | None = None  # types of some columns; the rest inferred
    path_columns: Sequence[str] = ()  # Hive-style key=value folders read as columns
    replaces_rewritten: bool = False  # rewritten files' earlier rows are replaced (not kept)
    merge_keys: Sequence[str] = ()  # upsert each batch by these columns (else append)
    delete_when: Equals | None = None  # with merge_keys: a row so marked deletes its key's row
    column_names: str = names.KEEP
    max_file_bytes: int | None = None
    write_timeout: float = 3600.0
    query_timeout: float = 600.0

    @property
    def commits_by_merge(self) -> bool:
        """Whether a batch may be committed by a MERGE, whose snapshot names no batch."""
        return self.replaces_rewritten or bool(self.merge_keys)


@dataclass(frozen=True)
class FileToLoad:
    id: int
    spark_path: str
    modified_at: datetime | None = None  # as listed; lets a lone file's columns be constants
    size: int | None = None  # bytes, as listed; sizes the write of a batch of many files
    replaces_rows: bool = False  # its earlier versions' rows are deleted in the same commit
    etag: str | None = None  # as listed: the version of the file that loads


@dataclass
class BatchOutcome:
    snapshot_id: int | None = None
    rows_per_file: dict[int, int | None] = field(default_factory=dict)  # None: not counted
    rows: int = 0  # all the batch committed
    failed: dict[int, FileFailure] = field(default_factory=dict)
    new_columns: list[str] = field(default_factory=list)
    widened_columns: dict[str, str] = field(default_factory=dict)  # column -> "int -> bigint"
    warnings: list[str] = field(default_factory=list)
    merged: bool = False  # committed by a MERGE that replaced rewritten files' rows
    schema_after: StructType | None = None
    dropped_records: int = 0


@dataclass(frozen=True)
class CommittedBatch:
    snapshot_id: int
    added_records: int  # the snapshot summary's count: the batch's rows
    # Keyed by the paths as the table's source-file column has them; None when the table has
    # no source-file or batch column to count them by.
    rows_per_path: dict[str, int] | None

    def rows_per_file(self, files: Mapping[str, int]) -> dict[int, int | None]:
        """Rows per file id, for files given as {Spark path: id}; a file with no rows has 0,
        and every file None when the rows cannot be told apart."""
        if self.rows_per_path is None:
            return dict.fromkeys(files.values())
        ids = {_normal(spark_file_uri(path)): file_id for path, file_id in files.items()}
        rows: dict[int, int | None] = {file_id: 0 for file_id in files.values()}
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
    emptied = [f for f in empty if f.replaces_rows]
    if emptied:
        _delete_rows_of(spark, spec, emptied)
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
        if committed is None and outcome.merged:
            # The MERGE deleted rows and added none (rewritten files emptied, or only delete
            # markers): no data file holds the batch. Recovery of such a batch releases it,
            # and loading it again deletes nothing more.
            outcome.rows_per_file = {f.id: 0 for f in remaining}
        elif committed is None:
            raise SparkLoadError(f"batch {batch_id} was appended, but no snapshot names it")
        else:
            outcome.snapshot_id = committed.snapshot_id
            outcome.rows_per_file = committed.rows_per_file({f.spark_path: f.id for f in remaining})
            outcome.rows = committed.added_records
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
    reserved = reserved_columns(spec)
    known = _data_columns(existing, reserved) if existing is not None else spec.schema
    sample = _sample(spark, spec, paths, headers)
    renamed = names.table_names(sample.fieldNames(), spec.column_names)
    file_types = StructType([StructField(renamed[f.name], f.dataType, True) for f in sample.fields])
    clashing = [c for c in spec.path_columns if c.casefold() in _folded(file_types.fieldNames())]
    if clashing:
        raise SchemaMismatch(
            f"the files have a column named like the path column(s) {', '.join(clashing)} "
            "(source.path_columns)"
        )
    unmatched = evolution.unmatched_hints(
        spec.schema_hints,
        [*file_types.fieldNames(), *spec.path_columns, *(known.fieldNames() if known else [])],
    )
    warning = str(evolution.HintsUnmatched(unmatched, dict.fromkeys(file_types.fieldNames())))
    if unmatched and warning not in outcome.warnings:
        outcome.warnings.append(warning)
    sample = evolution.hinted(file_types, spec.schema_hints)
    path_fields = _path_fields(spec, existing, files, outcome)
    changes = evolution.Evolution()
    if known is not None and spec.read.infers_types:
        _check_types(known, sample)
        changes = _changes(spec, known, sample)
    new = [f for f in sample.fields if known is not None and f.name not in known.fieldNames()]
    if new and spec.evolution == "fail_on_new_columns":
        raise NewColumnsRejected([f.name for f in new])
    base = evolution.evolved(known, changes) if known is not None else sample
    target = StructType(
        [*base.fields, *(new if spec.evolution in ("add_new_columns", "rescue") else [])]
    )
    read_schema, casts = read_types(spec, target, file_types)
    frame = _read(
        spark, spec, batch_id, files, read_schema, renamed, headers, read_roots, path_fields
    )
    if casts:
        frame = frame.select(*cast_columns(frame.columns, casts))
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
    analysed = with_deadline(spark, lambda: read_frame.schema, seconds, "analysing the read")
    present = StructType([f for f in analysed.fields if f.name != ROW_ORDER])
    if existing is None:
        table.create_table(spark, spec.table, present, spec.partitioning, spec.properties, seconds)
        existing = present
    table.widen_columns(spark, spec.table, changes.widened, seconds)
    table.add_nested_fields(spark, spec.table, changes.nested, seconds)
    missing = [f for f in present.fields if f.name not in existing.fieldNames()]
    table.add_columns(spark, spec.table, missing, seconds)
    # Columns the table has and these files lack load as nulls.
    absent = [c for c in existing.fields if c.name not in present.fieldNames()]
    if absent:
        frame = frame.select("*", *[F.lit(None).cast(c.dataType).alias(c.name) for c in absent])
    partitions = write_partitions(files, cluster_parallelism(spark)) if len(files) > 1 else None
    if partitions is not None:
        frame = frame.coalesce(partitions)
    replacing = [f for f in files if f.replaces_rows]
    if spec.merge_keys:
        merge_by_key(
            spark,
            spec.table.sql,
            frame,
            spec.merge_keys,
            spec.delete_when,
            spec.metadata,
            spec.write_timeout,
            batch_id,
            ordered_by_row_index=spec.read.format == "parquet",
        )
        outcome.merged = True
    elif replacing:
        _replace_rows(spark, spec, frame, replacing, batch_id)
        outcome.merged = True
    else:
        writer = frame.writeTo(spec.table.sql).option(
            f"snapshot-property.{BATCH_PROPERTY}", batch_id
        )
        with_deadline(spark, writer.append, spec.write_timeout, f"appending batch {batch_id}")
    outcome.new_columns = [
        *([f.name for f in new] if spec.evolution == "add_new_columns" else []),
        *changes.nested_names,
    ]
    outcome.widened_columns = changes.describe_widened()
    outcome.schema_after = table.table_schema(spark, spec.table, seconds)


def _changes(spec: LoadSpec, known: StructType, sample: StructType) -> evolution.Evolution:
    """What the batch changes in the table's existing columns, as the evolution mode allows.

    CSV and JSON types are guesses from text (every JSON integer is a bigint): only the fields
    new inside structs count there. Parquet, Avro and ORC types are the files' own."""
    found = evolution.compare(known, sample)
    if spec.read.format in formats.TEXT_FORMATS:
        nested = found.nested if spec.evolution == "add_new_columns" else []
        return evolution.Evolution(nested=nested)
    if found.conflicts:
        raise TypeConflict(found.conflicts)
    if spec.evolution == "fail_on_new_columns" and found.nested:
        raise NewColumnsRejected(found.nested_names)
    if spec.evolution == "add_new_columns":
        return found
    if found.widened:
        raise TypeConflict(found.widened_as_conflicts())
    return evolution.Evolution()  # fields new in structs are ignored, as new columns are


REPLACES = "__autoloader_replaces"


def _replace_rows(
    spark: SparkSession,
    spec: LoadSpec,
    frame: DataFrame,
    replacing: Sequence[FileToLoad],
    batch_id: str,
) -> None:
    """One Iceberg commit that deletes the rows earlier versions of `replacing` loaded (found by
    the source-file column) and appends the batch's rows: a MERGE whose source is the new rows
    plus one marker row per replaced file; a marker matches the old rows and deletes them, and
    a new row matches nothing and is inserted.

    A MERGE takes no snapshot property, so its batch is found by the batch column's rows
    (find_committed_batch)."""
    source_file = spec.metadata.source_file
    if source_file is None or spec.metadata.batch_id is None:
        raise SparkLoadError(
            "replacing a rewritten file's rows needs the source_file and batch_id lineage "
            "columns (destination.metadata_columns)"
        )
    columns = with_deadline(spark, lambda: frame.schema, spec.query_timeout, "analysing the read")
    markers = spark.createDataFrame(
        [(spark_file_uri(f.spark_path),) for f in replacing], f"{REPLACES} STRING"
    )
    source = frame.withColumn(REPLACES, F.lit(None).cast("string")).unionByName(
        markers.select(
            *[F.lit(None).cast(c.dataType).alias(c.name) for c in columns.fields],
            F.col(REPLACES),
        )
    )
    target = spec.table.sql
    merge = (
        source.alias("s")
        .mergeInto(target, F.expr(f"{target}.{quote_column(source_file)} = s.{REPLACES}"))
        .whenMatched()
        .delete()
        .whenNotMatched(F.col(f"s.{REPLACES}").isNull())
        .insert({quote_column(c.name): F.col(f"s.{quote_column(c.name)}") for c in columns})
    )
    with_deadline(spark, merge.merge, spec.write_timeout, f"replacing rows in batch {batch_id}")


def _delete_rows_of(spark: SparkSession, spec: LoadSpec, files: Sequence[FileToLoad]) -> None:
    """Deletes the rows of rewritten files that are now empty (they have nothing to MERGE);
    deleting again finds nothing, so a crash before the ledger update is harmless."""
    source_file = spec.metadata.source_file
    if source_file is None or table.table_schema(spark, spec.table) is None:
        return
    paths = ", ".join(sql_string(spark_file_uri(f.spark_path)) for f in files)
    with_deadline(
        spark,
        spark.sql(
            f"DELETE FROM {spec.table.sql} WHERE {quote_column(source_file)} IN ({paths})"
        ).collect,
        spec.write_timeout,
        "deleting the rows of emptied files",
    )


def reserved_columns(spec: LoadSpec) -> set[str]:
    """The table's columns that no file fills: lineage, path, corrupt and rescued columns."""
    return {*spec.metadata.names(), *spec.path_columns, CORRUPT_COLUMN, RESCUED_COLUMN}


def read_types(
    spec: LoadSpec, target: StructType, sample: StructType
) -> tuple[StructType, dict[str, DataType]]:
    """The schema to read with, and the columns to cast to the table's type after reading.

    CSV and JSON parse text into whatever type they are given. Parquet, Avro and ORC hold
    typed values, which their readers will not convert (a double column read as DECIMAL fails):
    a column whose type in the files differs from the table's is read as the files have it and
    cast (a hint, or a type the table widened earlier)."""
    if spec.read.format in formats.TEXT_FORMATS:
        return target, {}
    in_files = {f.name.casefold(): f.dataType for f in sample.fields}
    fields, casts = [], {}
    for f in target.fields:
        file_type = in_files.get(f.name.casefold())
        simple = not isinstance(f.dataType, StructType | ArrayType | MapType)
        if file_type is not None and simple and file_type != f.dataType:
            fields.append(StructField(f.name, file_type, True))
            casts[f.name] = f.dataType
        else:
            fields.append(f)
    return StructType(fields), casts


def cast_columns(columns: Sequence[str], casts: Mapping[str, DataType]) -> list[Column]:
    """The columns, those in `casts` cast to their type (read_types says which)."""
    return [
        F.col(quote_column(c)).cast(casts[c]).alias(c) if c in casts else F.col(quote_column(c))
        for c in columns
    ]


def _path_fields(
    spec: LoadSpec,
    existing: StructType | None,
    files: Sequence[FileToLoad],
    outcome: BatchOutcome,
) -> list[StructField]:
    """The path columns with their types; FileRejected for a file whose value does not fit."""
    if not spec.path_columns:
        return []
    in_table = {f.name: f.dataType for f in (existing.fields if existing else [])}
    hints = {f.name: f.dataType for f in (spec.schema_hints.fields if spec.schema_hints else [])}
    fields = path_columns.column_types(
        spec.path_columns, [f.spark_path for f in files], in_table, hints
    )
    for file in files:
        failure, lacking = path_columns.check(file.spark_path, fields)
        if failure is not None:
            raise FileRejected(file.spark_path, failure)
        if lacking:
            warning = (
                f"{file.spark_path}: the path has no folder for {', '.join(lacking)} "
                "(source.path_columns): loaded with nulls there"
            )
            if warning not in outcome.warnings:
                outcome.warnings.append(warning)
    return fields


def _folded(names_: Sequence[str]) -> set[str]:
    return {n.casefold() for n in names_}


def _read(
    spark: SparkSession,
    spec: LoadSpec,
    batch_id: str,
    files: Sequence[FileToLoad],
    read_schema: StructType,
    renamed: Mapping[str, str],
    headers: Mapping[str, list[str]],
    read_roots: Sequence[str] | None,
    path_fields: Sequence[StructField] = (),
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
        # A merge ranks a key's rows by their place in their file.
        order = row_order(spec.read.format) if spec.merge_keys else None
        frame = _with_lineage(frame, spec.metadata, path_fields, batch_id, group, order)
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
    if not rows and spec.commits_by_merge:
        return _committed_by_merge(spark, spec, batch_id)
    if not rows:
        return None
    snapshot_id = int(rows[0]["snapshot_id"])
    added = int(rows[0]["added"] or 0)
    if only_path is not None:
        return CommittedBatch(snapshot_id, added, {spark_file_uri(only_path): added})
    meta = spec.metadata
    if meta.source_file is None or meta.batch_id is None:
        return CommittedBatch(snapshot_id, added, None)
    counts = with_deadline(
        spark,
        spark.sql(
            f"SELECT {quote(meta.source_file)} AS path, count(*) AS n FROM {spec.table.sql} "
            f"WHERE {quote(meta.batch_id)} = {sql_string(batch_id)} GROUP BY 1"
        ).collect,
        spec.query_timeout,
        "counting the batch's rows per file",
    )
    return CommittedBatch(snapshot_id, added, {r["path"]: int(r["n"]) for r in counts})


def _committed_by_merge(
    spark: SparkSession, spec: LoadSpec, batch_id: str
) -> CommittedBatch | None:
    """A batch committed by a MERGE (which names no batch in its snapshot): the snapshot that
    added the data files holding the batch's rows, and the rows per file."""
    meta = spec.metadata
    if meta.source_file is None or meta.batch_id is None:
        return None
    batch = f"{quote(meta.batch_id)} = {sql_string(batch_id)}"
    found = with_deadline(
        spark,
        spark.sql(
            f"SELECT max(e.snapshot_id) AS snapshot_id FROM {spec.table.metadata_table('entries')} e "
            f"WHERE e.status = 1 AND e.data_file.file_path IN "
            f"(SELECT DISTINCT _file FROM {spec.table.sql} WHERE {batch})"
        ).collect,
        spec.query_timeout,
        "looking up the batch's snapshot",
    )
    if not found or found[0]["snapshot_id"] is None:
        return None
    counts = with_deadline(
        spark,
        spark.sql(
            f"SELECT {quote(meta.source_file)} AS path, count(*) AS n FROM {spec.table.sql} "
            f"WHERE {batch} GROUP BY 1"
        ).collect,
        spec.query_timeout,
        "counting the batch's rows per file",
    )
    rows = {r["path"]: int(r["n"]) for r in counts}
    return CommittedBatch(int(found[0]["snapshot_id"]), sum(rows.values()), rows)


def delete_batches(
    spark: SparkSession, spec: LoadSpec, batch_ids: Sequence[str], chunk: int = 500
) -> int:
    """Deletes the rows of the given batches from the table (a full refresh); returns how many.
    Idempotent: deleting again finds nothing."""
    if not batch_ids or table.table_schema(spark, spec.table) is None:
        return 0
    if spec.metadata.batch_id is None:
        raise SparkLoadError(
            "a full refresh deletes rows by their batch, and the ingestion writes no batch "
            "column (destination.metadata_columns.batch_id)"
        )
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


def _with_lineage(
    frame: DataFrame,
    meta: MetadataColumns,
    path_fields: Sequence[StructField],
    batch_id: str,
    files: Sequence[FileToLoad],
    order: Column | None = None,
) -> DataFrame:
    """Adds the path and lineage columns (and a merge's ROW_ORDER). A batch of one file (a large file, typically) gets
    them as constants: Spark's _metadata column adds a copy of every row to the scan, and with
    one file the values are known without it."""
    lone = files[0] if len(files) == 1 else None
    constants = lone is not None and lone.modified_at is not None
    columns: list[Column] = []
    for path_field in path_fields:
        columns.append(
            path_columns.constant(lone.spark_path, path_field)
            if constants and lone is not None
            else path_columns.from_file_path(path_field)
        )
    wanted: dict[str | None, Column] = {}
    if constants and lone is not None:
        wanted[meta.source_file] = F.lit(spark_file_uri(lone.spark_path))
        wanted[meta.source_modified_at] = F.lit(lone.modified_at)
        wanted[meta.source_size] = F.lit(lone.size).cast("bigint")
    else:
        wanted[meta.source_file] = F.col("_metadata.file_path")
        wanted[meta.source_modified_at] = F.col("_metadata.file_modification_time")
        wanted[meta.source_size] = F.col("_metadata.file_size")
    if meta.source_etag is not None:
        wanted[meta.source_etag] = _etags(files, lone if constants else None)
    wanted[meta.batch_id] = F.lit(batch_id)
    wanted[meta.ingested_at] = F.lit(datetime.now(UTC))
    columns += [wanted[name].alias(name) for name in meta.names()]
    if order is not None:
        columns.append(order.alias(ROW_ORDER))
    return frame.select("*", *columns) if columns else frame


def _etags(files: Sequence[FileToLoad], lone: FileToLoad | None) -> Column:
    """Each row's file's ETag: a constant for a lone file, else looked up by the path Spark
    reads (Spark's _metadata has no ETag; the listing's is the version the ledger claimed)."""
    if lone is not None:
        return F.lit(lone.etag).cast("string")
    by_path = F.create_map(
        *(
            part
            for file in files
            for part in (F.lit(spark_file_uri(file.spark_path)), F.lit(file.etag).cast("string"))
        )
    )
    return by_path[F.col("_metadata.file_path")]


def _data_columns(schema: StructType, reserved: set[str]) -> StructType:
    return StructType([f for f in schema.fields if f.name not in reserved])


def in_header_order(schema: StructType, header: StructType) -> StructType:
    """CSV maps columns by position: order the schema as the files' header names them."""
    by_name = {f.name: f for f in schema.fields}
    ordered = [by_name.get(f.name, StructField(f.name, StringType(), True)) for f in header.fields]
    return StructType(ordered)


def _normal(path: str) -> str:
    return unquote(path).rstrip("/")
