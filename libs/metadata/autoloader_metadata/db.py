"""Engines, sessions, and the startup check that the database answers and is migrated."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import asyncpg
from autoloader_metadata.errors import DatabaseUnavailable, SchemaOutOfDate
from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
READ_TIMEOUT_SECONDS = 30.0
# What a lost or refused asyncpg connection raises. A connection whose backend was terminated
# may instead fail with InternalClientError ("cannot switch to state …", asyncpg issue #1069).
CONNECTION_LOST: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.InternalClientError,
)
_UNAVAILABLE: tuple[type[BaseException], ...] = (*CONNECTION_LOST, TimeoutError)
T = TypeVar("T")
# Alembic is imported where it is used: it takes a second to import, and every flow run
# process imports this module before it reaches RUNNING.


def make_engine(url: str, pool_size: int = 10) -> Engine:
    """A pooled engine whose connections are checked before use (a restarted PostgreSQL then
    costs no request)."""
    return create_engine(url, pool_size=pool_size, pool_pre_ping=True)


async def open_read_pool(url: str, size: int = 10) -> asyncpg.Pool:
    """A pool of asyncpg connections for the API's hot reads: a request waiting on PostgreSQL
    leaves the event loop to the others, and a statement costs a fraction of what it costs
    through a SQLAlchemy session (no BEGIN/ROLLBACK, no isolation switched per checkout)."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        pool = await asyncpg.create_pool(
            dsn,
            min_size=size,  # opened up front: a burst of requests does not wait on connects
            max_size=size,
            command_timeout=READ_TIMEOUT_SECONDS,
            server_settings={
                "application_name": "autoloader-api",
                # These statements walk indexes in order (a page by name); PostgreSQL's default
                # cost of a random read (4, for spinning disks) has it sort whole tables instead.
                # 1.1 is its documented value for solid-state storage.
                "random_page_cost": "1.1",
            },
        )
    except CONNECTION_LOST as error:
        raise DatabaseUnavailable(f"the metadata database is unreachable: {error}") from error
    assert pool is not None
    return pool


async def read(pool: asyncpg.Pool, statement: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
    """`statement(pool)`, a read-only statement, run a second time on fresh connections when
    its connection was lost (as after a PostgreSQL restart or failover, which leaves the whole
    pool dead); a database still down, or too slow, is DatabaseUnavailable."""
    try:
        try:
            return await statement(pool)
        except CONNECTION_LOST:
            await pool.expire_connections()
            return await statement(pool)
    except _UNAVAILABLE as error:
        raise DatabaseUnavailable(f"the metadata database is unavailable: {error!r}") from error


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
