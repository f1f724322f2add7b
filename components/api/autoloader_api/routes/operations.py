"""/health, /ready and /metrics: no API key needed."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from autoloader_api.routes.common import ServicesDep
from autoloader_api.schemas import Health, Readiness
from autoloader_core import __version__

router = APIRouter(tags=["operations"])


@router.get("/health")
async def health() -> Health:
    """The process is up and its event loop answers (no dependency is checked, so a stuck
    database or Prefect never makes it fail: /ready says what is not)."""
    return Health(status="ok", version=__version__)


@router.get("/ready", responses={503: {"model": Readiness}})
async def ready(services: ServicesDep, response: Response) -> Readiness:
    """The metadata database and Prefect both answer."""
    database = "ok"
    try:
        await asyncio.wait_for(services.db.read(lambda s: s.execute(text("SELECT 1"))), 5)
    except TimeoutError:
        database = "unavailable: no answer within 5 s"
    except Exception as error:  # any failure means not ready; say what failed underneath
        database = f"unavailable: {type(error.__cause__ or error).__name__}"
    try:
        failure = await asyncio.wait_for(services.prefect.api_healthcheck(), 5)
        prefect = "ok" if failure is None else f"unavailable: {type(failure).__name__}"
    except TimeoutError:
        prefect = "unavailable: no answer within 5 s"
    ok = database == "ok" and prefect == "ok"
    response.status_code = 200 if ok else 503
    return Readiness(status="ready" if ok else "not ready", database=database, prefect=prefect)


@router.get("/metrics", response_class=Response)
async def metrics() -> Response:
    """Prometheus metrics of this process."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
