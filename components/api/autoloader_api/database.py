"""The API's one way to PostgreSQL: SQLAlchemy's asyncio engine on asyncpg.

A unit of work is a plain function of a synchronous Session (the same repositories the workers
use), run on an asyncio connection by `AsyncSession.run_sync`: a request waiting on PostgreSQL
leaves the event loop to the others, and since the function cannot await, no transaction can
span a call to Prefect or anything else remote. Every wait is bounded: the pool answers within
`api_database_pool_timeout_seconds` or the request gets 503, and the server ends a statement,
a lock wait or an idle transaction that runs past its limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from autoloader_metadata.errors import DatabaseUnavailable
from sqlalchemy import exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from autoloader_core.settings import Settings

T = TypeVar("T")


class DatabaseBusy(DatabaseUnavailable):
    """Every connection of this process is in use; the client should try again shortly."""


def _milliseconds(seconds: float) -> str:
    return str(int(seconds * 1000))


def async_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


class Database:
    def __init__(self, settings: Settings) -> None:
        size = settings.api_database_pool_size
        self.pool_timeout = settings.api_database_pool_timeout_seconds
        self.engine: AsyncEngine = create_async_engine(
            async_url(settings.database_url.get_secret_value()),
            pool_size=size,
            max_overflow=0,  # the pool is the limit: past it, 503 at once rather than more load
            pool_timeout=self.pool_timeout,
            # No ping per checkout (a round trip each): a connection found dead fails its
            # request with 503 and is dropped from the pool, so the next one gets a fresh one.
            connect_args={
                "timeout": settings.api_database_connect_timeout_seconds,
                # The client's own bound, a little past the server's: a dead connection too.
                "command_timeout": settings.api_statement_timeout_seconds + 2,
                "server_settings": {
                    "application_name": "autoloader-api",
                    "statement_timeout": _milliseconds(settings.api_statement_timeout_seconds),
                    "lock_timeout": _milliseconds(settings.api_lock_timeout_seconds),
                    "idle_in_transaction_session_timeout": _milliseconds(
                        settings.api_idle_in_transaction_timeout_seconds
                    ),
                    # Pages walk indexes in order; PostgreSQL's default cost of a random read
                    # (4, for spinning disks) has it sort whole tables instead. 1.1 is its
                    # documented value for solid-state storage.
                    "random_page_cost": "1.1",
                },
            },
        )
        # Reads skip BEGIN and COMMIT (asyncpg's autocommit is decided client-side).
        self._reads = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
        )
        self._writes = async_sessionmaker(self.engine, expire_on_commit=False)

    async def read(self, work: Callable[[Session], T]) -> T:
        """`work(session)` outside any transaction: each statement sees the latest commits.
        A read that finds its connection dead (PostgreSQL restarted or failed over; SQLAlchemy
        then drops every pooled connection) runs once more on a fresh one."""
        try:
            try:
                return await self._read_once(work)
            except exc.DBAPIError as error:
                if not error.connection_invalidated:
                    raise
                return await self._read_once(work)
        except exc.TimeoutError as error:
            raise self._busy() from error

    async def _read_once(self, work: Callable[[Session], T]) -> T:
        async with self._reads() as session:
            return await session.run_sync(work)

    async def write(self, work: Callable[[Session], T]) -> T:
        """`work(session)` in one transaction: committed when it returns, rolled back if it
        raises."""
        try:
            async with self._writes() as session, session.begin():
                return await session.run_sync(work)
        except exc.TimeoutError as error:
            raise self._busy() from error

    async def dispose(self) -> None:
        await self.engine.dispose()

    def _busy(self) -> DatabaseBusy:
        return DatabaseBusy(
            f"every database connection of this API process stayed busy for "
            f"{self.pool_timeout:g} s; try again"
        )
