"""The destination Iceberg table: create it when absent, read its schema, evolve it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession
from pyspark.sql.types import StructField, StructType

from autoloader_spark.identifiers import TableRef, partition_sql, quote, sql_string


def table_schema(spark: SparkSession, table: TableRef) -> StructType | None:
    """The table's schema, or None when the table does not exist."""
    try:
        return spark.table(table.sql).schema
    except AnalysisException as error:
        if "TABLE_OR_VIEW_NOT_FOUND" in str(error) or "not found" in str(error).lower():
            return None
        raise


def create_table(
    spark: SparkSession,
    table: TableRef,
    schema: StructType,
    partitioning: Sequence[str] = (),
    properties: Mapping[str, str] | None = None,
) -> None:
    """Creates the namespace and the table (if absent) with the given columns."""
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {table.namespace_sql}")
    columns = ", ".join(_column_sql(column) for column in schema.fields)
    partition = (
        f" PARTITIONED BY ({', '.join(partition_sql(p) for p in partitioning)})"
        if partitioning
        else ""
    )
    props = {"format-version": "2", **(properties or {})}
    tblproperties = ", ".join(
        f"{sql_string(str(k))} = {sql_string(str(v))}" for k, v in props.items()
    )
    spark.sql(
        f"CREATE TABLE IF NOT EXISTS {table.sql} ({columns}) USING iceberg"
        f"{partition} TBLPROPERTIES ({tblproperties})"
    )


def add_columns(spark: SparkSession, table: TableRef, columns: Sequence[StructField]) -> None:
    if columns:
        added = ", ".join(_column_sql(column) for column in columns)
        spark.sql(f"ALTER TABLE {table.sql} ADD COLUMNS ({added})")


def _column_sql(column: StructField) -> str:
    return f"{quote(column.name)} {column.dataType.simpleString()}"
