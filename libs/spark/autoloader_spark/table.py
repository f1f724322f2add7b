"""The destination Iceberg table: create it when absent, read its schema, evolve it.

Column DDL is built from the StructType field by field, every name quoted at every level: a file
may carry any name (`order id`, `a:b>`, a backtick), and none of it may become SQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession
from pyspark.sql.types import ArrayType, DataType, MapType, StructField, StructType

from autoloader_spark.identifiers import TableRef, partition_sql, quote_column, sql_string
from autoloader_spark.session import with_deadline

DDL_TIMEOUT = 600.0


def table_schema(
    spark: SparkSession, table: TableRef, seconds: float = DDL_TIMEOUT
) -> StructType | None:
    """The table's schema, or None when the table does not exist (and only then)."""
    try:
        return with_deadline(
            spark, lambda: spark.table(table.sql).schema, seconds, "reading the table's schema"
        )
    except AnalysisException as error:
        if error.getCondition() == "TABLE_OR_VIEW_NOT_FOUND":
            return None
        raise


def create_table(
    spark: SparkSession,
    table: TableRef,
    schema: StructType,
    partitioning: Sequence[str] = (),
    properties: Mapping[str, str] | None = None,
    seconds: float = DDL_TIMEOUT,
) -> None:
    """Creates the namespace and the table (if absent) with the given columns."""
    _sql(spark, f"CREATE NAMESPACE IF NOT EXISTS {table.namespace_sql}", seconds)
    partition = (
        f" PARTITIONED BY ({', '.join(partition_sql(p) for p in partitioning)})"
        if partitioning
        else ""
    )
    props = {"format-version": "2", **(properties or {})}
    tblproperties = ", ".join(
        f"{sql_string(str(k))} = {sql_string(str(v))}" for k, v in props.items()
    )
    _sql(
        spark,
        f"CREATE TABLE IF NOT EXISTS {table.sql} ({columns_sql(schema.fields)}) USING iceberg"
        f"{partition} TBLPROPERTIES ({tblproperties})",
        seconds,
    )


def add_columns(
    spark: SparkSession,
    table: TableRef,
    columns: Sequence[StructField],
    seconds: float = DDL_TIMEOUT,
) -> None:
    if columns:
        _sql(spark, f"ALTER TABLE {table.sql} ADD COLUMNS ({columns_sql(columns)})", seconds)


def widen_columns(
    spark: SparkSession,
    table: TableRef,
    widened: Mapping[tuple[str, ...], tuple[DataType, DataType]],
    seconds: float = DDL_TIMEOUT,
) -> None:
    """Promotes each column (by its path: a struct's field is (struct, field)) to its wider
    type."""
    for path, (_, wider) in widened.items():
        column = ".".join(quote_column(part) for part in path)
        _sql(
            spark, f"ALTER TABLE {table.sql} ALTER COLUMN {column} TYPE {type_sql(wider)}", seconds
        )


def add_nested_fields(
    spark: SparkSession,
    table: TableRef,
    fields: Sequence[tuple[tuple[str, ...], StructField]],
    seconds: float = DDL_TIMEOUT,
) -> None:
    """Adds fields inside struct columns, each given with the path of its struct."""
    if fields:
        columns = ", ".join(
            ".".join(quote_column(p) for p in (*parent, f.name)) + f" {type_sql(f.dataType)}"
            for parent, f in fields
        )
        _sql(spark, f"ALTER TABLE {table.sql} ADD COLUMNS ({columns})", seconds)


def columns_sql(columns: Sequence[StructField]) -> str:
    """`\\`order id\\` STRING, \\`c\\` STRUCT<\\`a b\\`: BIGINT>`: the columns as Spark DDL."""
    return ", ".join(f"{quote_column(c.name)} {type_sql(c.dataType)}" for c in columns)


def type_sql(data_type: DataType) -> str:
    """A type as Spark DDL with every nested field name quoted (simpleString() quotes none)."""
    if isinstance(data_type, StructType):
        fields = ", ".join(f"{quote_column(f.name)}: {type_sql(f.dataType)}" for f in data_type)
        return f"STRUCT<{fields}>"
    if isinstance(data_type, ArrayType):
        return f"ARRAY<{type_sql(data_type.elementType)}>"
    if isinstance(data_type, MapType):
        return f"MAP<{type_sql(data_type.keyType)}, {type_sql(data_type.valueType)}>"
    return data_type.simpleString()


def _sql(spark: SparkSession, statement: str, seconds: float) -> None:
    # Spark Connect runs a command at sql(); the deadline covers it.
    with_deadline(spark, lambda: spark.sql(statement), seconds, "changing the table")
