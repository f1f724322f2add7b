"""Errors of the Spark side, each saying what failed and why."""

from __future__ import annotations

from autoloader_metadata.failures import FileFailure


class SparkLoadError(Exception):
    """Base of the errors libs/spark raises on purpose."""


class SparkCallTimeout(SparkLoadError):
    """A Spark call passed its deadline and was interrupted on the server."""


class FileRejected(SparkLoadError):
    """One file of a batch cannot be loaded, for a reason found before Spark reads its rows."""

    def __init__(self, path: str, failure: FileFailure) -> None:
        super().__init__(f"{path}: {failure}")
        self.path = path
        self.failure = failure


class SchemaMismatch(SparkLoadError):
    """The files' columns or types do not fit the table (or each other)."""


class AmbiguousColumns(SchemaMismatch):
    """Two names that Spark reads as one column: equal but for case, or after normalizing."""

    def __init__(self, names: tuple[str, str], why: str) -> None:
        super().__init__(f"columns {names[0]!r} and {names[1]!r} {why}")
        self.names = names


class TypeConflict(SchemaMismatch):
    """A column the table (or the ingestion's schema) types one way holds another in the files."""

    def __init__(self, conflicts: dict[str, tuple[str, str]]) -> None:
        described = "; ".join(
            f"column {name!r} is {table} in the table and {files} in the files"
            for name, (table, files) in conflicts.items()
        )
        super().__init__(described)
        self.conflicts = conflicts


class NewColumnsRejected(SchemaMismatch):
    """The ingestion fails on new columns, and the batch brought some."""

    def __init__(self, columns: list[str]) -> None:
        super().__init__(
            "the files have columns the table does not, and the ingestion's schema evolution "
            f"mode is fail_on_new_columns: {', '.join(columns)}"
        )
        self.columns = columns


class InvalidIdentifier(SparkLoadError, ValueError):
    """A catalog, namespace, table or column name that is not a safe identifier."""
