"""Why files failed, in a few words fit for a metric label."""

from __future__ import annotations


def reason_of(error: str | None) -> str:
    """The bounded part of a file's error: `PATH_NOT_FOUND: …` -> the Spark condition (or the
    error type, when Spark gave none); free text -> `unknown`."""
    head = (error or "").split(":", 1)[0].strip()
    if not head or len(head) > 80 or " " in head:
        return "unknown"
    return head
