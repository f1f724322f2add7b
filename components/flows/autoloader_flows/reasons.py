"""Why files failed, in a few words fit for a metric label."""

from __future__ import annotations

from autoloader_metadata.failures import ErrorCategory

CATEGORIES = frozenset(category.value for category in ErrorCategory)


def reason_of(category: str | None, error: str | None = None) -> str:
    """A file failure's category (`malformed`, `transient`, …). A failure recorded before
    failures had categories gives the head of its error instead: `PATH_NOT_FOUND: …` -> the
    Spark condition (or the error type); free text -> `unknown`."""
    if category in CATEGORIES:
        return category
    head = (error or "").split(":", 1)[0].strip()
    if not head or len(head) > 80 or " " in head:
        return "unknown"
    return head
