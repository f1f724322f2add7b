"""The states and choices stored in the metadata tables."""

from enum import StrEnum


class IngestionStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ERROR = "error"
    DELETED = "deleted"


class FileFormat(StrEnum):
    CSV = "csv"
    JSON = "json"
    PARQUET = "parquet"
    AVRO = "avro"
    ORC = "orc"
    TEXT = "text"


class SchemaEvolution(StrEnum):
    ADD_NEW_COLUMNS = "add_new_columns"
    RESCUE = "rescue"
    FAIL_ON_NEW_COLUMNS = "fail_on_new_columns"
    IGNORE = "ignore"


class RewrittenFilePolicy(StrEnum):
    """What discovery does with an object whose ETag or size changed after it was seen."""

    IGNORE = "ignore"
    RELOAD = "reload"  # appended again: the earlier version's rows stay (duplicates)
    REPLACE = "replace"  # the earlier versions' rows are deleted in the commit of the new one


class AfterLoad(StrEnum):
    """What becomes of a source file once its rows are committed and marked loaded."""

    KEEP = "keep"
    DELETE = "delete"
    MOVE = "move"  # to source.archive_uri, at the same path below it


class WriteMode(StrEnum):
    """How a batch's rows meet the table: appended, or upserted by the ingestion's keys."""

    APPEND = "append"
    MERGE = "merge"


class ListingMode(StrEnum):
    """FULL lists the whole source each run; START_AFTER lists only keys after the last one seen
    (for keys that grow in order, such as dated prefixes), with a periodic full listing."""

    FULL = "full"
    START_AFTER = "start_after"


class FileStatus(StrEnum):
    DISCOVERED = "discovered"
    CLAIMED = "claimed"
    LOADED = "loaded"
    FAILED = "failed"
    SKIPPED = "skipped"


class BatchStatus(StrEnum):
    CLAIMED = "claimed"
    LOADED = "loaded"
    FAILED = "failed"
    ABANDONED = "abandoned"
    SPLIT = "split"  # its files moved to smaller batches (parts) to isolate a failing file


class ApiScope(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


class ColumnNames(StrEnum):
    """How the files' column names become the table's."""

    KEEP = "keep"  # as written: `order id`, `Zürich`, `1st`
    SNAKE_CASE = "snake_case"  # order_id, zurich, _1st (top-level columns)
