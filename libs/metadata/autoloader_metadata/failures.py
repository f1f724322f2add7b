"""Why a file failed: a category from a small fixed set, and whether trying again can help.

One model from the Spark side (which classifies) to the ledger (which stores the category beside
the reason) and the run summary and metrics (which count by category).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorCategory(StrEnum):
    MALFORMED = "malformed"  # the bytes are not what the format says: truncated, corrupt, garbled
    SCHEMA_MISMATCH = "schema_mismatch"  # readable, but its columns or types do not fit the table
    UNSUPPORTED = "unsupported"  # a type, codec or feature the reader or the table cannot take
    PERMISSION = "permission"  # the store refused the read
    NOT_FOUND = "not_found"  # gone between listing and loading
    TOO_LARGE = "too_large"  # past the ingestion's file or line limit, or out of memory
    TRANSIENT = "transient"  # the cluster or the store failed for now; the same load may pass


# Retrying one of these reads the same bytes the same way: the file fails for good at once.
DETERMINISTIC = frozenset(
    {
        ErrorCategory.MALFORMED,
        ErrorCategory.SCHEMA_MISMATCH,
        ErrorCategory.UNSUPPORTED,
        ErrorCategory.TOO_LARGE,
    }
)


@dataclass(frozen=True)
class FileFailure:
    category: ErrorCategory
    reason: str  # one line for people: the Spark condition or error type, then the cause

    @property
    def retryable(self) -> bool:
        return self.category not in DETERMINISTIC

    def __str__(self) -> str:
        return f"{self.category}: {self.reason}"
