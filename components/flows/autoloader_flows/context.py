"""What a flow run process needs, made once per process: settings, the metadata store."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from autoloader_core.settings import Settings, get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker


def settings() -> Settings:
    return get_settings()


@lru_cache(maxsize=1)
def sessions() -> sessionmaker[Session]:
    # SQLAlchemy is imported on first use: flow modules load before a run reaches RUNNING.
    from autoloader_metadata.db import make_engine, session_factory

    return session_factory(make_engine(settings().database_url.get_secret_value(), pool_size=3))
