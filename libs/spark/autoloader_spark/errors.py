"""Errors of the Spark side, each saying what failed and why."""

from __future__ import annotations


class SparkLoadError(Exception):
    """Base of the errors libs/spark raises on purpose."""


class SparkCallTimeout(SparkLoadError):
    """A Spark call passed its deadline and was interrupted on the server."""


class NewColumnsRejected(SparkLoadError):
    """The ingestion fails on new columns, and the batch brought some."""

    def __init__(self, columns: list[str]) -> None:
        super().__init__(
            "the files have columns the table does not, and the ingestion's schema evolution "
            f"mode is fail_on_new_columns: {', '.join(columns)}"
        )
        self.columns = columns


class InvalidIdentifier(SparkLoadError, ValueError):
    """A catalog, namespace, table or column name that is not a safe identifier."""
