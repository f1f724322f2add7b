"""A preview of what loading some files would produce, writing nothing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pyspark.sql import SparkSession
from pyspark.sql.types import StructType

from autoloader_spark import evolution, formats, path_columns, table
from autoloader_spark.load import (
    LoadSpec,
    cast_columns,
    in_header_order,
    read_types,
    reserved_columns,
)
from autoloader_spark.paths import load_files
from autoloader_spark.session import with_deadline


@dataclass(frozen=True)
class SchemaDiff:
    new_columns: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    type_changes: dict[str, str] = field(default_factory=dict)  # column -> "table -> files"


@dataclass(frozen=True)
class PreviewResult:
    columns: list[tuple[str, str]]
    rows: list[dict[str, Any]]
    table_exists: bool
    diff: SchemaDiff


def preview(
    spark: SparkSession, spec: LoadSpec, sample_paths: Sequence[str], limit: int = 20
) -> PreviewResult:
    """Reads the sample files as a load would (schema inferred or given) and returns the schema,
    its difference from the destination table, and the first rows."""
    in_files = spec.schema or formats.sample_schema(spark, spec.read, sample_paths)
    unmatched = evolution.unmatched_hints(
        spec.schema_hints, [*in_files.fieldNames(), *spec.path_columns]
    )
    if unmatched:
        raise evolution.HintsUnmatched(unmatched, dict.fromkeys(in_files.fieldNames()))
    schema, casts = read_types(spec, evolution.hinted(in_files, spec.schema_hints), in_files)
    if spec.schema is not None and spec.read.format == "csv":
        header = formats.sample_schema(spark, spec.read, sample_paths[:1])
        schema = in_header_order(schema, header)
    frame = load_files(formats.reader(spark, spec.read, schema), sample_paths)
    hints = {f.name: f.dataType for f in spec.schema_hints or []}
    path_fields = path_columns.column_types(spec.path_columns, sample_paths, {}, hints)
    frame = frame.select(
        *cast_columns(frame.columns, casts),
        *[path_columns.from_file_path(f) for f in path_fields],
    )
    rows = with_deadline(spark, frame.limit(limit).collect, spec.query_timeout, "reading a preview")
    existing = table.table_schema(spark, spec.table)
    return PreviewResult(
        columns=[(f.name, f.dataType.simpleString()) for f in frame.schema.fields],
        rows=[row.asDict(recursive=True) for row in rows],
        table_exists=existing is not None,
        diff=_diff(existing, frame.schema, spec) if existing is not None else SchemaDiff(),
    )


def _diff(existing: StructType, incoming: StructType, spec: LoadSpec) -> SchemaDiff:
    reserved = reserved_columns(spec) - set(spec.path_columns)
    table_columns = {f.name: f.dataType for f in existing.fields if f.name not in reserved}
    file_columns = {f.name: f.dataType for f in incoming.fields if f.name not in reserved}
    return SchemaDiff(
        new_columns=[name for name in file_columns if name not in table_columns],
        missing_columns=[name for name in table_columns if name not in file_columns],
        type_changes={
            name: f"{table_columns[name].simpleString()} -> {kind.simpleString()}"
            for name, kind in file_columns.items()
            if name in table_columns and table_columns[name] != kind
        },
    )
