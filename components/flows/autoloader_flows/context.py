"""What a flow run process needs, made once per process: settings, the metadata store."""

from __future__ import annotations

from functools import lru_cache

from autoloader_metadata.db import make_engine, session_factory
from sqlalchemy.orm import Session, sessionmaker

from autoloader_core.settings import Settings, get_settings


def settings() -> Settings:
    return get_settings()


@lru_cache(maxsize=1)
def sessions() -> sessionmaker[Session]:
    return session_factory(make_engine(settings().database_url.get_secret_value(), pool_size=3))
