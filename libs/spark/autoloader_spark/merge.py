"""Upserting a batch into its table by key: one MERGE INTO, one Iceberg commit.

Of the rows a batch holds for one key, the one kept is of the last file by modification time
(then by path), and of that file the last row: by Parquet's row index, or for other formats in
the order read (exact for a file one task reads). With `delete_when`, a kept row meeting the
condition deletes its key's row from the table instead (and inserts nothing); files that lack
the condition's column have no such rows. Keys compare null-safely: rows with a null key match
each other.
"""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from autoloader_spark.conditions import Equals
from autoloader_spark.errors import SchemaMismatch
from autoloader_spark.identifiers import quote_column
from autoloader_spark.lineage import MetadataColumns
from autoloader_spark.session import with_deadline

ROW_ORDER = "__autoloader_row"  # a row's place in its file, added by the read
_RANK = "__autoloader_rank"


def row_order(file_format: str) -> Column:
    """A row's place in its file, read with the file (it needs Spark's hidden _metadata).
    Parquet has an exact, deterministic row index; for other formats the order of reading
    stands in (exact for a file read by one task), which a MERGE refuses as non-deterministic
    unless the batch is computed first (merge_by_key does)."""
    if file_format == "parquet":
        return F.col("_metadata.row_index")
    return F.monotonically_increasing_id()


def latest_per_key(frame: DataFrame, keys: Sequence[str], lineage: MetadataColumns) -> DataFrame:
    """The batch's last row of every key (see the module's rule)."""
    if lineage.source_modified_at is None or lineage.source_file is None:
        raise SchemaMismatch("merge orders a key's rows by the source_modified_at and source_file")
    window = Window.partitionBy(*[F.col(quote_column(k)) for k in keys]).orderBy(
        F.col(quote_column(lineage.source_modified_at)).desc_nulls_last(),
        F.col(quote_column(lineage.source_file)).desc(),
        F.col(ROW_ORDER).desc(),
    )
    return (
        frame.withColumn(_RANK, F.row_number().over(window))
        .where(F.col(_RANK) == 1)
        .drop(_RANK, ROW_ORDER)
    )


def merge_by_key(
    spark: SparkSession,
    table_sql: str,
    frame: DataFrame,
    keys: Sequence[str],
    delete_when: Equals | None,
    lineage: MetadataColumns,
    seconds: float,
    batch_id: str,
    ordered_by_row_index: bool = False,
) -> None:
    """`frame` holds the ROW_ORDER column; `ordered_by_row_index` says it is deterministic
    (Parquet's row index), so the MERGE can read the files itself."""
    columns = [
        c
        for c in with_deadline(spark, lambda: frame.columns, seconds, "analysing the read")
        if c != ROW_ORDER
    ]
    missing = [k for k in keys if k not in columns]
    if missing:
        raise SchemaMismatch(
            f"destination.keys names {', '.join(map(repr, missing))}, which the files do not "
            "have"
        )
    if delete_when is not None and delete_when.column not in columns:
        delete_when = None  # files without the marker column hold no delete markers
    latest = latest_per_key(frame, keys, lineage)
    if not ordered_by_row_index:
        # A MERGE refuses a source with a non-deterministic expression (the reading order is
        # one): the batch's latest rows are computed once and kept on the executors for it.
        latest = with_deadline(
            spark, lambda: latest.localCheckpoint(eager=True), seconds, "ranking the batch's keys"
        )
    source = latest.alias("s")
    on = None
    for key in keys:
        same = F.col(f"{table_sql}.{quote_column(key)}").eqNullSafe(F.col(f"s.{quote_column(key)}"))
        on = same if on is None else on & same
    assert on is not None
    deletes = (
        F.col(f"s.{quote_column(delete_when.column)}") == F.lit(delete_when.value)
        if delete_when is not None
        else None
    )
    values = {quote_column(c): F.col(f"s.{quote_column(c)}") for c in columns}
    merge = source.mergeInto(table_sql, on)
    if deletes is not None:
        kept = F.coalesce(~deletes, F.lit(True))
        merge = (
            merge.whenMatched(deletes)
            .delete()
            .whenMatched()
            .update(values)
            .whenNotMatched(kept)
            .insert(values)
        )
    else:
        merge = merge.whenMatched().update(values).whenNotMatched().insert(values)
    with_deadline(spark, merge.merge, seconds, f"merging batch {batch_id}")
