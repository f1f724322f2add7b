"""What the routers share: the services, the error responses they document, paging."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query, Request, Response

from autoloader_api.schemas import ErrorOut
from autoloader_api.services import Services


async def services_of(request: Request) -> Services:
    """async: a plain function would cost every request a trip through the threadpool."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(services_of)]
Limit = Annotated[int, Query(ge=1, le=200, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]

_ERRORS = {
    401: "No API key, or one that is not valid",
    403: "The API key lacks the scope",
    404: "Not found (or another tenant's)",
    409: "Conflicts with the current state, or another change is in progress",
    412: "If-Match named a version that is no longer the current one",
    422: "A field is not valid",
    429: "The tenant is at one of the installation's limits (ingestions, runs or previews in flight)",
    503: "Prefect or the database is unavailable or too slow (see the detail; Retry-After)",
}


def json_text(
    content: str, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """A documented response's JSON, made elsewhere (PostgreSQL builds ingestions' JSON)."""
    return Response(
        content, status_code=status_code, headers=headers, media_type="application/json"
    )


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorOut, "description": _ERRORS[s]} for s in (401, 403, *statuses)}
