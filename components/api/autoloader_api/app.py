"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel

from autoloader_core import __version__


class Health(BaseModel):
    status: str
    version: str


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield


def create_app() -> FastAPI:
    app = FastAPI(title="Autoloader", version=__version__, lifespan=lifespan)

    @app.get("/health", tags=["operations"])
    async def health() -> Health:
        """The process is up (no dependency is checked)."""
        return Health(status="ok", version=__version__)

    return app
