"""Columns from the path: Hive-style `key=value` folders (`year=2026/month=11/`) as typed columns.

A value is read as its folder writes it. A column's type is the table's once it has the column,
else its schema hint, else inferred from the batch's values: bigint when every value is an
integer, date when every value is YYYY-MM-DD, else string. A file whose value does not fit the
type fails as schema_mismatch; a file whose path has no such folder gets null and a warning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date

from autoloader_metadata.failures import ErrorCategory, FileFailure
from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import (
    BooleanType,
    DataType,
    DateType,
    IntegralType,
    LongType,
    StringType,
    StructField,
)

HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"  # how Hive and Spark write a null partition value
_INTEGER = re.compile(r"^[+-]?\d{1,18}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def folder_values(path: str, keys: Sequence[str]) -> dict[str, str | None]:
    """The value of each key among the path's folders (the deepest wins), None where absent."""
    folders = path.split("://", 1)[-1].split("/")[:-1]
    values: dict[str, str | None] = dict.fromkeys(keys)
    for folder in folders:
        key, sep, value = folder.partition("=")
        if sep and key in values:
            values[key] = value if value not in ("", HIVE_NULL) else None
    return values


def inferred_type(values: Sequence[str]) -> DataType:
    if values and all(_INTEGER.match(v) for v in values):
        return LongType()
    if values and all(_DATE.match(v) and _is_date(v) for v in values):
        return DateType()
    return StringType()


def misfit(value: str, data_type: DataType) -> str | None:
    """Why `value` cannot be a `data_type`, or None (types Spark checks itself pass here)."""
    if isinstance(data_type, IntegralType) and not _INTEGER.match(value):
        return "is not an integer"
    if isinstance(data_type, DateType) and not (_DATE.match(value) and _is_date(value)):
        return "is not a date (YYYY-MM-DD)"
    if isinstance(data_type, BooleanType) and value.lower() not in ("true", "false"):
        return "is not true or false"
    return None


def column_types(
    keys: Sequence[str],
    paths: Sequence[str],
    table: Mapping[str, DataType],
    hints: Mapping[str, DataType],
) -> list[StructField]:
    """Each path column's type: the table's, the hint's, or inferred from the batch's paths."""
    fields = []
    for key in keys:
        data_type = table.get(key) or hints.get(key)
        if data_type is None:
            seen = [v for p in paths if (v := folder_values(p, [key])[key]) is not None]
            data_type = inferred_type(seen)
        fields.append(StructField(key, data_type, True))
    return fields


def check(path: str, columns: Sequence[StructField]) -> tuple[FileFailure | None, list[str]]:
    """A failure for a value that does not fit its column, and the keys the path lacks."""
    values = folder_values(path, [c.name for c in columns])
    for column in columns:
        value = values[column.name]
        why = misfit(value, column.dataType) if value is not None else None
        if why is not None:
            return (
                FileFailure(
                    ErrorCategory.SCHEMA_MISMATCH,
                    f"the path's folder {column.name}={value} {why}, and the column "
                    f"{column.name!r} is {column.dataType.simpleString()} "
                    "(source.path_columns)",
                ),
                [],
            )
    return None, [c.name for c in columns if values[c.name] is None]


def constant(path: str, column: StructField) -> Column:
    value = folder_values(path, [column.name])[column.name]
    return F.lit(value).cast(column.dataType).alias(column.name)


def from_file_path(column: StructField) -> Column:
    """The column read from Spark's `_metadata.file_path` (a URI: its escapes are undone)."""
    extracted = F.regexp_extract(
        F.col("_metadata.file_path"), f"/{re.escape(column.name)}=([^/]*)/", 1
    )
    decoded = F.url_decode(extracted)
    value = F.when((extracted == "") | (decoded == HIVE_NULL), F.lit(None)).otherwise(decoded)
    return value.cast(column.dataType).alias(column.name)


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True
