"""No secret leaves a flow run: its log records and its errors are scrubbed (a storage client's
error may carry a SAS token or a signed URL, and Prefect keeps both: logs, state messages)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from autoloader_core.scrub import scrub, scrub_handlers

# Prefect's run loggers ship records to its API; the root logger prints them.
RUN_LOGGERS = ("prefect", "prefect.flow_runs", "prefect.task_runs")


class RunFailed(Exception):
    """An error of the run, with its text scrubbed of secrets."""


def scrub_logs() -> None:
    scrub_handlers(*RUN_LOGGERS)


@contextmanager
def scrubbed_errors() -> Iterator[None]:
    """Re-raises an error whose text holds a secret as RunFailed with the text scrubbed (and
    without the original chained); any other error passes as it is."""
    try:
        yield
    except Exception as error:
        text = f"{type(error).__name__}: {error}"
        clean = scrub(text)
        if clean == text:
            raise
        raise RunFailed(clean) from None
