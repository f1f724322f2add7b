"""How each file format is read: reader options, corrupt-record handling, header-only schemas."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, DataFrameReader, SparkSession
from pyspark.sql.types import StringType, StructField, StructType

from autoloader_spark.options import OPTIONS, CorruptRecords
from autoloader_spark.paths import load_files

CORRUPT_COLUMN = "_corrupt_record"
TEXT_FORMATS = ("csv", "json", "text")


@dataclass(frozen=True)
class ReadSpec:
    format: str
    options: Mapping[str, str] = field(default_factory=dict)
    corrupt_records: CorruptRecords = CorruptRecords.KEEP

    def __post_init__(self) -> None:
        if self.format not in OPTIONS:
            raise ValueError(f"unknown format {self.format!r}; known: {', '.join(OPTIONS)}")
        unknown = sorted(set(self.options) - set(OPTIONS[self.format]))
        if unknown:
            raise ValueError(f"{self.format} does not take the option(s) {', '.join(unknown)}")

    @property
    def tracks_corrupt_records(self) -> bool:
        return self.format in ("csv", "json") and self.corrupt_records is not CorruptRecords.FAIL


def reader(spark: SparkSession, spec: ReadSpec, schema: StructType | None) -> DataFrameReader:
    """A reader for the spec; with `schema`, Spark infers nothing (one pass over the data)."""
    read = spark.read.format(spec.format).options(**dict(spec.options))
    if spec.format == "csv" and "header" not in spec.options:
        read = read.option("header", "true")
    if spec.format in ("csv", "json"):
        if spec.tracks_corrupt_records:
            read = read.option("mode", "PERMISSIVE").option(
                "columnNameOfCorruptRecord", CORRUPT_COLUMN
            )
            if schema is not None:
                schema = with_corrupt_column(schema)
        else:
            read = read.option("mode", "FAILFAST")
        if spec.format == "csv" and schema is not None:
            # Fail a file whose header does not match, instead of shifting its columns.
            read = read.option("enforceSchema", "false")
    else:
        read = read.option("ignoreCorruptFiles", "false")
    if schema is not None:
        read = read.schema(schema)
    return read


def with_corrupt_column(schema: StructType) -> StructType:
    if CORRUPT_COLUMN in schema.fieldNames():
        return schema
    return StructType([*schema.fields, StructField(CORRUPT_COLUMN, StringType(), True)])


def sample_schema(spark: SparkSession, spec: ReadSpec, paths: Sequence[str]) -> StructType:
    """The columns a bounded sample of files has: CSV headers (new columns typed string unless
    inferSchema is on), JSON inferred from the sample, footers for Parquet, Avro and ORC."""
    if spec.format == "text":
        return StructType([StructField("value", StringType(), True)])
    if spec.format == "csv" and spec.options.get("inferSchema", "false").lower() != "true":
        names: list[str] = []
        for path in paths:
            header = load_files(reader(spark, ReadSpec("csv", spec.options), None), [path])
            for name in header.columns:
                if name not in names and name != CORRUPT_COLUMN:
                    names.append(name)
        return StructType([StructField(name, StringType(), True) for name in names])
    frame: DataFrame = load_files(reader(spark, ReadSpec(spec.format, spec.options), None), paths)
    return StructType([f for f in frame.schema.fields if f.name != CORRUPT_COLUMN])
