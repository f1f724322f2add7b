"""The FastAPI application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from autoloader_api import console, errors
from autoloader_api.limits import RequestLimits
from autoloader_api.metrics import RequestMetrics
from autoloader_api.operation_ids import operation_id
from autoloader_api.routes import (
    admin,
    clusters,
    files,
    identity,
    ingestions,
    operations,
    previews,
    runs,
    schema_versions,
)
from autoloader_api.services import Services
from autoloader_core import __version__
from autoloader_core.settings import Settings, get_settings

DESCRIPTION = """Loads new files from object storage into Iceberg tables on a schedule.

Every endpoint under /api/v1 takes an API key: `Authorization: Bearer al_<prefix>_<secret>`.
A tenant sees only its own ingestions, runs and files; another tenant's id is 404.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app; its services (database engine, Prefect client) live as long as it serves."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = services
        await services.db.open()
        async with services.prefect:
            # The imports (Prefect's above all) leave ~1M long-lived objects; a full collection
            # walking them paused requests for tens of ms. Frozen, collections skip them.
            gc.collect()
            gc.freeze()
            yield
        await services.close()

    settings = settings or get_settings()
    services = Services.of(settings)
    app = FastAPI(
        title="Autoloader",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
    )
    errors.install(app)
    app.add_middleware(RequestMetrics)
    # Outermost: the deadline covers the metrics and every handler; the body bound, parsing.
    app.add_middleware(
        RequestLimits,
        max_body_bytes=settings.api_max_body_bytes,
        deadline_seconds=settings.api_request_deadline_seconds,
    )
    for module in (
        operations,
        identity,
        ingestions,
        previews,
        runs,
        files,
        schema_versions,
        clusters,
        admin,
        console,
    ):
        app.include_router(module.router)
    return app
