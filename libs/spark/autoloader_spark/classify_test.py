import pytest
from autoloader_metadata.failures import ErrorCategory, FileFailure
from pyspark.errors import PySparkException
from pyspark.errors.exceptions.connect import AnalysisException, SparkException

from autoloader_spark.classify import classify
from autoloader_spark.errors import (
    FileRejected,
    InvalidIdentifier,
    NewColumnsRejected,
    SparkCallTimeout,
)

C = ErrorCategory


def spark_error(condition: str | None, text: str) -> PySparkException:
    error = SparkException(message=text, errorClass=condition)
    return error


@pytest.mark.parametrize(
    ("condition", "text", "category"),
    [
        (
            "FAILED_READ_FILE.PARQUET_COLUMN_DATA_TYPE_MISMATCH",
            "Data type mismatches when reading Parquet column amount. Expected bigint Found BINARY",
            C.SCHEMA_MISMATCH,
        ),
        (
            "FAILED_READ_FILE.NO_HINT",
            "Encountered error while reading file s3a://b/x.csv.gz.\njava.io.EOFException: "
            "Unexpected end of input stream",
            C.MALFORMED,
        ),
        (
            "FAILED_READ_FILE.NO_HINT",
            "reading s3a://b/x.csv\njava.nio.file.AccessDeniedException: s3a://b/x.csv: 403",
            C.PERMISSION,
        ),
        ("FAILED_READ_FILE.FILE_NOT_EXIST", "File s3a://b/x.csv does not exist", C.NOT_FOUND),
        ("PATH_NOT_FOUND", "Path does not exist: s3a://b/x.csv", C.NOT_FOUND),
        (None, "java.lang.OutOfMemoryError: Java heap space", C.TOO_LARGE),
        (
            None,
            "TextParsingException: Length of parsed input (1000001) exceeds the maximum number "
            "of characters defined in your parser settings (1000000).",
            C.TOO_LARGE,
        ),
        (
            None,
            "org.apache.iceberg.exceptions.CommitFailedException: metadata location changed",
            C.TRANSIENT,
        ),
        (None, "Job aborted: ExecutorLostFailure (executor 3 exited)", C.TRANSIENT),
        ("MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION", "Malformed records", C.MALFORMED),
        (
            "CANNOT_READ_FILE_FOOTER",
            "Could not read footer for file s3a://b/x.parquet",
            C.MALFORMED,
        ),
        ("UNSUPPORTED_DATATYPE", "Unsupported data type INTERVAL", C.UNSUPPORTED),
        ("COLUMN_ALREADY_EXISTS", "The column `id` already exists.", C.SCHEMA_MISMATCH),
        ("INCOMPATIBLE_DATA_FOR_TABLE.CANNOT_SAFELY_CAST", "Cannot safely cast", C.SCHEMA_MISMATCH),
        ("SOMETHING_NEW", "a condition nobody has seen", C.MALFORMED),
    ],
)
def test_spark_errors_map_to_their_category(
    condition: str | None, text: str, category: ErrorCategory
) -> None:
    failure = classify(spark_error(condition, text))
    assert failure.category is category
    assert failure.retryable is (category in (C.PERMISSION, C.NOT_FOUND, C.TRANSIENT))
    assert failure.reason.startswith(condition or "SparkException")


def test_the_reason_is_one_line_with_the_real_cause() -> None:
    error = spark_error(
        "FAILED_READ_FILE.NO_HINT",
        "Encountered error while reading file s3a://b/x.gz.\nJVM stacktrace:\n"
        "org.apache.spark.SparkException: Job aborted\n"
        "Caused by: java.io.EOFException: Unexpected end of input stream",
    )
    reason = classify(error).reason
    assert (
        reason == "FAILED_READ_FILE.NO_HINT: java.io.EOFException: Unexpected end of input stream"
    )


def test_autoloaders_own_errors_keep_their_meaning() -> None:
    rejected = FileRejected("s3a://b/x.csv", FileFailure(C.SCHEMA_MISMATCH, "Id and id"))
    assert classify(rejected) == FileFailure(C.SCHEMA_MISMATCH, "Id and id")
    assert classify(NewColumnsRejected(["pwn"])).category is C.SCHEMA_MISMATCH
    assert classify(InvalidIdentifier("bad")).category is C.UNSUPPORTED
    assert classify(SparkCallTimeout("late")).category is C.TRANSIENT
    assert classify(ConnectionError("reset")).retryable
    assert (
        classify(
            AnalysisException(message="x", errorClass="UNRESOLVED_COLUMN.WITH_SUGGESTION")
        ).category
        is C.SCHEMA_MISMATCH
    )
