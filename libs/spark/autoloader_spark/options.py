"""Which reader options each format takes, and the corrupt-record rules: free of pyspark, so
the API validates an ingestion with the same lists the loader uses."""

from __future__ import annotations

from enum import StrEnum

# Reader options a user may set per format (anything else is refused by the API).
OPTIONS: dict[str, tuple[str, ...]] = {
    "csv": (
        "header",
        "sep",
        "delimiter",
        "quote",
        "escape",
        "multiLine",
        "encoding",
        "nullValue",
        "dateFormat",
        "timestampFormat",
        "comment",
        "ignoreLeadingWhiteSpace",
        "ignoreTrailingWhiteSpace",
        "inferSchema",
        "lineSep",
        "maxCharsPerColumn",
    ),
    "json": (
        "multiLine",
        "encoding",
        "dateFormat",
        "timestampFormat",
        "allowComments",
        "allowSingleQuotes",
        "primitivesAsString",
        "lineSep",
    ),
    "parquet": ("mergeSchema", "datetimeRebaseMode"),
    "avro": ("avroSchema", "datetimeRebaseMode"),
    "orc": ("mergeSchema",),
    "text": ("wholetext", "lineSep", "encoding"),
}


class CorruptRecords(StrEnum):
    """What happens to a record a readable CSV/JSON file cannot parse."""

    KEEP = "keep"  # the row loads, the raw line in _corrupt_record
    DROP = "drop"  # the row is dropped and counted
    FAIL = "fail"  # the whole file fails with the parser's reason
