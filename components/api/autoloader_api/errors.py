"""How failures become HTTP answers: domain errors by kind, field errors in FastAPI's own
422 shape, and Prefect being down as 503 with nothing left half-done."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import asyncpg
import httpx
from autoloader_metadata.errors import (
    Conflict,
    DatabaseUnavailable,
    Invalid,
    LimitReached,
    NotFound,
    StaleVersion,
)
from autoloader_metadata.tables import TableNotAvailable
from autoloader_orchestration.previews import PreviewFailed
from autoloader_orchestration.runs import RunNotFound, RunNotRetryable
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from prefect.exceptions import PrefectHTTPStatusError
from sqlalchemy.exc import DataError, DBAPIError

from autoloader_core.scrub import scrub

RETRY_AFTER = {"Retry-After": "1"}
# PostgreSQL's errors that mean "another change holds this row" or "that took too long".
_CONTENDED = {"55P03": "lock_not_available", "40001": "serialization_failure", "40P01": "deadlock"}

log = logging.getLogger("autoloader.api")


class FieldError(Exception):
    """A value the request gave that the installation refuses (an unknown queue or cluster, a
    source the operator does not allow). `loc` names the field as FastAPI does."""

    def __init__(self, loc: Sequence[str | int], message: str) -> None:
        super().__init__(message)
        self.loc = list(loc)
        self.message = message


class OrchestratorUnavailable(Exception):
    pass


@asynccontextmanager
async def prefect_guard(timeout: float) -> AsyncIterator[None]:
    """Bounds a call to Prefect (its client's own retries included) and turns Prefect being
    slow, unreachable or failing into OrchestratorUnavailable."""
    try:
        async with asyncio.timeout(timeout):
            yield
    except TimeoutError as error:
        raise OrchestratorUnavailable(f"Prefect did not answer within {timeout:g} s") from error
    except httpx.TransportError as error:
        raise OrchestratorUnavailable(
            f"Prefect cannot be reached ({type(error).__name__})"
        ) from error
    except PrefectHTTPStatusError as error:
        if error.response.status_code >= 500:
            raise OrchestratorUnavailable(
                f"Prefect answered {error.response.status_code}"
            ) from error
        raise


TABLE_LOC = ["body", "destination", "table"]


def _detail(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    # A domain error may quote a store's or Prefect's error: never with a secret in it.
    return JSONResponse(status_code=status, content={"detail": scrub(message)}, headers=headers)


def install(app: FastAPI) -> None:
    statuses: list[tuple[type[Exception], int]] = [
        (NotFound, 404),
        (RunNotFound, 404),
        (Conflict, 409),
        (RunNotRetryable, 409),
        (StaleVersion, 412),
        (Invalid, 422),
        (PreviewFailed, 422),
        (LimitReached, 429),
    ]
    for kind, status in statuses:

        async def handle(request: Request, error: Exception, status: int = status) -> JSONResponse:
            return _detail(status, str(error))

        app.add_exception_handler(kind, handle)

    async def unavailable(request: Request, error: Exception) -> JSONResponse:
        return _detail(503, str(error), RETRY_AFTER)

    app.add_exception_handler(OrchestratorUnavailable, unavailable)
    app.add_exception_handler(DatabaseUnavailable, unavailable)

    async def field_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, FieldError)
        return JSONResponse(
            status_code=422,
            content={"detail": [{"loc": error.loc, "msg": error.message, "type": "value_error"}]},
        )

    async def database_error(request: Request, error: Exception) -> JSONResponse:
        # SQLAlchemy's errors carry PostgreSQL's code on .orig; asyncpg's own, on themselves.
        state = getattr(getattr(error, "orig", None), "sqlstate", None) or getattr(
            error, "sqlstate", None
        )
        if state in _CONTENDED:
            return _detail(
                409, "another change to the same object is in progress; try again", RETRY_AFTER
            )
        log.warning("metadata database error: %s (%s)", type(error).__name__, state)
        return _detail(
            503, "the metadata database is unavailable or too slow; try again", RETRY_AFTER
        )

    async def dependency_failed(request: Request, error: Exception) -> JSONResponse:
        log.warning("a dependency failed: %r", error)
        return _detail(503, "a dependency did not answer in time; try again", RETRY_AFTER)

    async def unstorable(request: Request, error: Exception) -> JSONResponse:
        # A safety net: fields are checked first, so this names no field.
        cause = str(getattr(error, "orig", error)).splitlines()[0]
        return _detail(422, f"a value cannot be stored: {cause}")

    async def table_not_available(request: Request, error: Exception) -> JSONResponse:
        # Raised by the store when another tenant claimed the table first (a race the
        # request's own check lost): the same field error as that check.
        message = [{"loc": TABLE_LOC, "msg": str(error), "type": "value_error"}]
        return JSONResponse(status_code=422, content={"detail": message})

    app.add_exception_handler(FieldError, field_error)
    app.add_exception_handler(TableNotAvailable, table_not_available)
    app.add_exception_handler(DataError, unstorable)
    app.add_exception_handler(DBAPIError, database_error)
    app.add_exception_handler(asyncpg.PostgresError, database_error)
    app.add_exception_handler(TimeoutError, dependency_failed)
    app.add_exception_handler(OSError, dependency_failed)
