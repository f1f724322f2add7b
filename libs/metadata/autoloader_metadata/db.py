"""Engines, sessions, and the startup check that the database answers and is migrated."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from autoloader_metadata.errors import DatabaseUnavailable, SchemaOutOfDate
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# Alembic is imported where it is used: it takes a second to import, and every flow run
# process imports this module before it reaches RUNNING.


def make_engine(url: str, pool_size: int = 10, max_overflow: int = 10) -> Engine:
    """A pooled engine whose connections are checked before use (a restarted PostgreSQL then
    costs no request)."""
    return create_engine(url, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True)


@contextmanager
def short_lived_engine(url: str) -> Iterator[Engine]:
    """An engine of one connection for a single check or command, disposed afterwards."""
    engine = make_engine(url, pool_size=1)
    try:
        yield engine
    finally:
        engine.dispose()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any error."""
    with factory() as session, session.begin():
        yield session


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would read a '%' in a password as a placeholder.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("postgresql://unused")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def describe(engine: Engine) -> str:
    """host:port/database of the engine, never the password."""
    url = make_url(str(engine.url))
    return f"{url.host}:{url.port}/{url.database}"


def check_ready(engine: Engine) -> str:
    """Raises a clear error unless the database answers and is at the code's schema revision."""
    try:
        current = current_revision(engine)
    except OperationalError as error:
        cause = str(error.orig or error).strip().splitlines()[0]
        raise DatabaseUnavailable(
            f"Cannot reach the metadata database at {describe(engine)}: {cause}"
        ) from error
    head = head_revision()
    if current != head:
        raise SchemaOutOfDate(
            f"The metadata database at {describe(engine)} is at schema revision {current or 'none'}, "
            f"but this version of Autoloader needs {head}. Run `migrate db upgrade`."
        )
    assert head is not None
    return head
