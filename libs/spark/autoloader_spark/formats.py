"""How each file format is read: reader options, corrupt-record handling, header-only schemas."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from autoloader_metadata.failures import ErrorCategory, FileFailure
from pyspark.sql import DataFrame, DataFrameReader, SparkSession
from pyspark.sql.types import ArrayType, DataType, MapType, StringType, StructField, StructType

from autoloader_spark.errors import AmbiguousColumns, FileRejected
from autoloader_spark.options import OPTIONS, CorruptRecords
from autoloader_spark.paths import load_files
from autoloader_spark.session import with_deadline

CORRUPT_COLUMN = "_corrupt_record"
# The longest CSV cell read (Spark's default is no limit): a file with a longer one, such as a
# binary file or one with an unclosed quote, fails as too_large instead of filling the heap.
MAX_CSV_CELL_CHARS = 4 * 1024 * 1024
TEXT_FORMATS = ("csv", "json", "text")


@dataclass(frozen=True)
class ReadSpec:
    format: str
    options: Mapping[str, str] = field(default_factory=dict)
    corrupt_records: CorruptRecords = CorruptRecords.KEEP
    # Hadoop settings that read the source with the ingestion's identity; they hold secrets.
    hadoop: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.format not in OPTIONS:
            raise ValueError(f"unknown format {self.format!r}; known: {', '.join(OPTIONS)}")
        unknown = sorted(set(self.options) - set(OPTIONS[self.format]))
        if unknown:
            raise ValueError(f"{self.format} does not take the option(s) {', '.join(unknown)}")

    @property
    def infers_csv_types(self) -> bool:
        return self.format == "csv" and self.options.get("inferSchema", "false").lower() == "true"

    @property
    def infers_types(self) -> bool:
        """Whether the files' own types show in a sample (a CSV's are strings unless inferred;
        primitivesAsString makes a JSON's strings too)."""
        if self.format == "csv":
            return self.infers_csv_types
        if self.format == "json":
            return self.options.get("primitivesAsString", "false").lower() != "true"
        return self.format != "text"

    @property
    def tracks_corrupt_records(self) -> bool:
        return self.format in ("csv", "json") and self.corrupt_records is not CorruptRecords.FAIL


def reader(
    spark: SparkSession, spec: ReadSpec, schema: StructType | None, headers_read: bool = False
) -> DataFrameReader:
    """A reader for the spec; with `schema`, Spark infers nothing (one pass over the data).

    `headers_read`: every CSV file read has the header the schema was built from, position by
    position (autoloader_spark.load groups files by header), so Spark need not check it; it
    could not tell an empty header cell from the _c<position> name Spark gives it."""
    read = spark.read.format(spec.format).options(**dict(spec.hadoop), **dict(spec.options))
    if spec.format == "csv" and "header" not in spec.options:
        read = read.option("header", "true")
    if spec.format == "csv" and "maxCharsPerColumn" not in spec.options:
        read = read.option("maxCharsPerColumn", str(MAX_CSV_CELL_CHARS))
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
            # Else fail a file whose header does not match, instead of shifting its columns.
            read = read.option("enforceSchema", "true" if headers_read else "false")
    else:
        read = read.option("ignoreCorruptFiles", "false")
    if schema is not None:
        read = read.schema(schema)
    return read


def with_corrupt_column(schema: StructType) -> StructType:
    if CORRUPT_COLUMN in schema.fieldNames():
        return schema
    return StructType([*schema.fields, StructField(CORRUPT_COLUMN, StringType(), True)])


def sample_schema(
    spark: SparkSession, spec: ReadSpec, paths: Sequence[str], seconds: float = 600.0
) -> StructType:
    """The columns a bounded sample of files has: CSV headers (new columns typed string unless
    inferSchema is on), JSON inferred from the sample, footers for Parquet, Avro and ORC.
    Names that Spark would read as one column (equal but for case) are refused."""
    if spec.format == "text":
        return StructType([StructField("value", StringType(), True)])
    if spec.format == "csv" and not spec.infers_csv_types:
        return header_schema(csv_headers(spark, spec, paths, seconds).values())
    frame: DataFrame = load_files(
        reader(spark, ReadSpec(spec.format, spec.options, hadoop=spec.hadoop), None), paths
    )
    inferred = with_deadline(spark, lambda: frame.schema, seconds, "inferring the files' schema")
    schema = StructType([f for f in inferred.fields if f.name != CORRUPT_COLUMN])
    check_distinct_names(schema)
    return schema


def header_schema(headers: Iterable[Sequence[str]]) -> StructType:
    """The union of CSV headers in the order first seen, every column a string."""
    names: dict[str, None] = {}
    for header in headers:
        names.update(dict.fromkeys(header))
    return StructType([StructField(name, StringType(), True) for name in names])


def csv_headers(
    spark: SparkSession, spec: ReadSpec, paths: Sequence[str], seconds: float = 600.0
) -> dict[str, list[str]]:
    """Each file's header as Spark names its columns; FileRejected for a header that cannot
    load as written (two names equal but for case; one column that looks delimited by another
    character than the ingestion's)."""
    return {path: csv_header(spark, spec, path, seconds) for path in paths}


def csv_header(spark: SparkSession, spec: ReadSpec, path: str, seconds: float) -> list[str]:
    frame = load_files(
        reader(spark, ReadSpec("csv", spec.options, hadoop=spec.hadoop), None), [path]
    )
    names = [
        name
        for name in with_deadline(spark, lambda: frame.columns, seconds, "reading a CSV header")
        if name != CORRUPT_COLUMN
    ]
    # Spark renames a duplicate (case-insensitively) to name<position> and an empty cell to
    # _c<position>; only then is the raw header worth reading, to tell which it was.
    if any(name.endswith(str(i)) for i, name in enumerate(names)):
        raw = _raw_header(spark, spec, path, seconds)
        try:
            check_distinct_names(StructType([StructField(n, StringType()) for n in raw if n]))
        except AmbiguousColumns as error:
            raise FileRejected(
                path, FileFailure(ErrorCategory.SCHEMA_MISMATCH, str(error))
            ) from error
    separator = spec.options.get("sep", spec.options.get("delimiter", ","))
    if len(names) == 1:
        other = next((c for c in ";\t|" if c in names[0] and c != separator), None)
        if other is not None:
            raise FileRejected(
                path,
                FileFailure(
                    ErrorCategory.MALFORMED,
                    f"the header is one column, {names[0]!r}, holding {other!r}: the file looks "
                    f"delimited by {other!r}, and the ingestion reads {separator!r} "
                    "(set format.options.sep)",
                ),
            )
    return names


def _raw_header(spark: SparkSession, spec: ReadSpec, path: str, seconds: float) -> list[str]:
    options = {**spec.options, "header": "false"}
    first = load_files(
        reader(spark, ReadSpec("csv", options, hadoop=spec.hadoop), None), [path]
    ).limit(1)
    rows = with_deadline(spark, first.collect, seconds, "reading a CSV header")
    if not rows:
        return []
    return ["" if v is None else str(v) for k, v in rows[0].asDict().items() if k != CORRUPT_COLUMN]


def check_distinct_names(schema: StructType) -> None:
    """AmbiguousColumns for two sibling names, at any level, that differ only by case."""
    for data_type in _structs(schema):
        seen: dict[str, str] = {}
        for field_ in data_type.fields:
            other = seen.setdefault(field_.name.casefold(), field_.name)
            if other != field_.name:
                raise AmbiguousColumns(
                    (other, field_.name), "differ only by case, and Spark reads them as one column"
                )


def _structs(data_type: DataType) -> Iterator[StructType]:
    if isinstance(data_type, StructType):
        yield data_type
        for field_ in data_type.fields:
            yield from _structs(field_.dataType)
    elif isinstance(data_type, ArrayType):
        yield from _structs(data_type.elementType)
    elif isinstance(data_type, MapType):
        yield from _structs(data_type.valueType)
