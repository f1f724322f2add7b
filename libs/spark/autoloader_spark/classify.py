"""Classifying a load error: which category, so a run knows whether trying again can help.

Spark names a failure by its condition (`FAILED_READ_FILE.NO_HINT`), and the real cause (an
EOFException inside a gzip stream, an S3 403) is a Java class in the message text. The table
below is read top down; the first rule that matches wins. Conditions are matched by prefix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from autoloader_metadata.failures import ErrorCategory, FileFailure
from pyspark.errors import PySparkException

from autoloader_core.scrub import scrub
from autoloader_spark.errors import (
    FileRejected,
    InvalidIdentifier,
    SchemaMismatch,
    SparkCallTimeout,
)

C = ErrorCategory


@dataclass(frozen=True)
class Rule:
    category: ErrorCategory
    conditions: tuple[str, ...] = ()  # Spark condition prefixes
    causes: tuple[str, ...] = ()  # regular expressions searched in the message text


# Specific conditions first, then causes found in the text, then the broad conditions.
RULES: tuple[Rule, ...] = (
    Rule(C.SCHEMA_MISMATCH, conditions=("FAILED_READ_FILE.PARQUET_COLUMN_DATA_TYPE_MISMATCH",)),
    Rule(C.NOT_FOUND, conditions=("FAILED_READ_FILE.FILE_NOT_EXIST", "PATH_NOT_FOUND")),
    Rule(C.TOO_LARGE, causes=(r"OutOfMemoryError", r"exceeds the maximum number of characters")),
    Rule(
        C.PERMISSION,
        causes=(
            r"AccessDeniedException",
            r"\b403\b",
            r"\bForbidden\b",
            r"AuthorizationPermissionMismatch",
            r"AuthorizationFailure",
        ),
    ),
    Rule(C.NOT_FOUND, causes=(r"FileNotFoundException", r"NoSuchKey", r"BlobNotFound")),
    Rule(
        C.TRANSIENT,
        causes=(
            r"CommitFailedException",
            r"Connection reset",
            r"Connection refused",
            r"SocketTimeoutException",
            r"ExecutorLostFailure",
            r"\bUNAVAILABLE\b",
            r"\b50[234]\b",
            r"SlowDown",
        ),
    ),
    Rule(
        C.MALFORMED,
        causes=(
            r"EOFException",
            r"ZipException",
            r"Unexpected end of input stream",
            r"Not in GZIP format",
            r"is not a Parquet file",
            r"ParquetDecodingException",
            r"CorruptedException|Corrupt",
            r"MalformedInputException",
            r"JsonParseException",
            r"Not an Avro data file",
            r"Malformed ORC file",
        ),
    ),
    Rule(C.UNSUPPORTED, causes=(r"UnsupportedOperationException",)),
    Rule(
        C.MALFORMED,
        conditions=(
            "MALFORMED_RECORD_IN_PARSING",
            "CANNOT_PARSE",
            "UNABLE_TO_INFER_SCHEMA",
            "CANNOT_READ_FILE_FOOTER",
            "FAILED_READ_FILE",
        ),
    ),
    Rule(C.UNSUPPORTED, conditions=("UNSUPPORTED_", "INVALID_IDENTIFIER", "PARSE_SYNTAX_ERROR")),
    Rule(
        C.SCHEMA_MISMATCH,
        conditions=(
            "DATATYPE_MISMATCH",
            "INCOMPATIBLE_DATA_FOR_TABLE",
            "CAST_INVALID_INPUT",
            "CANNOT_UP_CAST_DATATYPE",
            "COLUMN_ALREADY_EXISTS",
            "AMBIGUOUS_",
            "DUPLICATE",
            "UNRESOLVED_COLUMN",
            "FIELD_NOT_FOUND",
        ),
    ),
)


def classify(error: BaseException) -> FileFailure:
    """The category and a one-line reason of a load error, scrubbed of secrets."""
    failure = _classify(error)
    return FileFailure(failure.category, scrub(failure.reason))


def _classify(error: BaseException) -> FileFailure:
    if isinstance(error, FileRejected):
        return error.failure
    if isinstance(error, SchemaMismatch):
        return FileFailure(C.SCHEMA_MISMATCH, str(error))
    if isinstance(error, InvalidIdentifier):
        return FileFailure(C.UNSUPPORTED, str(error))
    if isinstance(error, SparkCallTimeout | TimeoutError | ConnectionError):
        return FileFailure(C.TRANSIENT, f"{type(error).__name__}: {error}")
    if not isinstance(error, PySparkException):
        # Not Spark's verdict on the data (a bug, the network, the metadata store): for now.
        return FileFailure(C.TRANSIENT, f"{type(error).__name__}: {error}"[:600])
    condition = error.getCondition() or ""
    message = str(error)
    for rule in RULES:
        if any(condition.startswith(prefix) for prefix in rule.conditions) or any(
            re.search(pattern, message) for pattern in rule.causes
        ):
            return FileFailure(rule.category, describe(error))
    # Spark refused the data and said nothing the table knows: the same read fails the same way.
    return FileFailure(C.MALFORMED, describe(error))


def describe(error: PySparkException) -> str:
    """The Spark condition and the real cause, which hides in the message text."""
    condition = error.getCondition() or type(error).__name__
    message = str(error)
    # The deepest Java cause that says something (`java.io.EOFException: Unexpected end…`);
    # else the message's first line (`[COLUMN_ALREADY_EXISTS] The column `a` already exists`).
    causes = re.findall(r"(?:Caused by: |\n)([A-Za-z.$]+(?:Exception|Error): [^\n]+)", message)
    first_line = (message.strip().splitlines() or [""])[0]
    cause = causes[-1] if causes else re.sub(r"^\[[A-Z_.]+\]\s*", "", first_line)
    return f"{condition}: {cause[:500]}"
