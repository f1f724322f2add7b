"""How failures become HTTP answers: domain errors by kind, field errors in FastAPI's own
422 shape, and Prefect being down as 503 with nothing left half-done."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import httpx
from autoloader_metadata.errors import Conflict, DatabaseUnavailable, Invalid, NotFound
from autoloader_orchestration.previews import PreviewFailed
from autoloader_orchestration.runs import RunNotFound, RunNotRetryable
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from prefect.exceptions import PrefectHTTPStatusError
from sqlalchemy.exc import DataError, OperationalError

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
async def prefect_guard() -> AsyncIterator[None]:
    """Turns Prefect being unreachable or failing into OrchestratorUnavailable."""
    try:
        yield
    except httpx.TransportError as error:
        raise OrchestratorUnavailable(
            f"Prefect cannot be reached ({type(error).__name__}); nothing was changed"
        ) from error
    except PrefectHTTPStatusError as error:
        if error.response.status_code >= 500:
            raise OrchestratorUnavailable(
                f"Prefect answered {error.response.status_code}; nothing was changed"
            ) from error
        raise


def _detail(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"detail": message})


def install(app: FastAPI) -> None:
    statuses: list[tuple[type[Exception], int]] = [
        (NotFound, 404),
        (RunNotFound, 404),
        (Conflict, 409),
        (RunNotRetryable, 409),
        (Invalid, 422),
        (PreviewFailed, 422),
        (OrchestratorUnavailable, 503),
        (DatabaseUnavailable, 503),
    ]
    for kind, status in statuses:

        async def handle(request: Request, error: Exception, status: int = status) -> JSONResponse:
            return _detail(status, str(error))

        app.add_exception_handler(kind, handle)

    async def field_error(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, FieldError)
        return JSONResponse(
            status_code=422,
            content={"detail": [{"loc": error.loc, "msg": error.message, "type": "value_error"}]},
        )

    async def database_down(request: Request, error: Exception) -> JSONResponse:
        log.warning("metadata database error: %s", type(error).__name__)
        return _detail(503, "the metadata database is unavailable; try again")

    async def unstorable(request: Request, error: Exception) -> JSONResponse:
        # A safety net: fields are checked first, so this names no field.
        cause = str(getattr(error, "orig", error)).splitlines()[0]
        return _detail(422, f"a value cannot be stored: {cause}")

    app.add_exception_handler(FieldError, field_error)
    app.add_exception_handler(DataError, unstorable)
    app.add_exception_handler(OperationalError, database_down)
