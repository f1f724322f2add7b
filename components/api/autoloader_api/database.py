"""The API's one way to PostgreSQL: SQLAlchemy's asyncio engine on asyncpg.

A unit of work is a plain function of a synchronous Session (the same repositories the workers
use), run on an asyncio connection by `AsyncSession.run_sync`: a request waiting on PostgreSQL
leaves the event loop to the others, and since the function cannot await, no transaction can
span a call to Prefect or anything else remote. Every wait is bounded: the pool answers within
`api_database_pool_timeout_seconds` or the request gets 503, and the server ends a statement,
a lock wait or an idle transaction that runs past its limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import asyncpg
from autoloader_metadata.errors import DatabaseUnavailable
from autoloader_model.store import SqlStatement
from sqlalchemy import exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from autoloader_core.settings import Settings

T = TypeVar("T")
# What a lost connection raises when asyncpg is driven directly. A connection whose backend was
# terminated may fail with InternalClientError ("cannot switch to state …", asyncpg #1069).
CONNECTION_LOST: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.InternalClientError,
)


_UNAVAILABLE: tuple[type[BaseException], ...] = (*CONNECTION_LOST, TimeoutError)


class DatabaseBusy(DatabaseUnavailable):
    """Every connection of this process is in use; the client should try again shortly."""


def _milliseconds(seconds: float) -> str:
    return str(int(seconds * 1000))


def async_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


async def _keep_session(connection: asyncpg.Connection) -> None:
    """What the hot-read pool runs on a connection handed back, besides ending any open
    transaction: nothing. Its connections run single read statements, which leave no session
    state, and asyncpg's default reset (advisory unlocks, CLOSE ALL, UNLISTEN, RESET ALL) costs
    a round trip and about a third of PostgreSQL's time per page of ingestions."""


class Database:
    """Two pools behind one interface: `read`/`write` run units of work on SQLAlchemy's
    asyncio engine; `fetch` runs the hot single statements on asyncpg directly."""

    def __init__(self, settings: Settings) -> None:
        size = settings.api_database_pool_size
        self.settings = settings
        self.pool_timeout = settings.api_database_pool_timeout_seconds
        url = settings.database_url.get_secret_value()
        self._dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._server_settings = {
            "application_name": "autoloader-api",
            "statement_timeout": _milliseconds(settings.api_statement_timeout_seconds),
            "lock_timeout": _milliseconds(settings.api_lock_timeout_seconds),
            "idle_in_transaction_session_timeout": _milliseconds(
                settings.api_idle_in_transaction_timeout_seconds
            ),
            # Pages walk indexes in order; PostgreSQL's default cost of a random read (4, for
            # spinning disks) has it sort whole tables instead. 1.1 is its documented value for
            # solid-state storage.
            "random_page_cost": "1.1",
        }
        self._hot: asyncpg.Pool | None = None
        self._gate = asyncio.Semaphore(settings.api_hot_read_pool_size)
        self.engine: AsyncEngine = create_async_engine(
            async_url(url),
            pool_size=size,
            max_overflow=0,  # the pool is the limit: past it, 503 at once rather than more load
            pool_timeout=self.pool_timeout,
            # No ping per checkout (a round trip each): a connection found dead fails its
            # request with 503 and is dropped from the pool, so the next one gets a fresh one.
            connect_args={
                "timeout": settings.api_database_connect_timeout_seconds,
                # The client's own bound, a little past the server's: a dead connection too.
                "command_timeout": settings.api_statement_timeout_seconds + 2,
                "server_settings": self._server_settings,
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

    async def open(self) -> None:
        """Opens the hot-read pool (in the event loop that serves): its connections up front,
        so a burst of requests does not wait on connects."""
        size = self.settings.api_hot_read_pool_size
        try:
            self._hot = await asyncpg.create_pool(
                self._dsn,
                min_size=size,
                max_size=size,
                timeout=self.settings.api_database_connect_timeout_seconds,
                command_timeout=self.settings.api_statement_timeout_seconds + 2,
                reset=_keep_session,
                server_settings=self._server_settings,
            )
        except CONNECTION_LOST as error:
            raise DatabaseUnavailable(f"the metadata database is unreachable: {error}") from error
        self._gate = asyncio.Semaphore(size)

    async def fetch(self, statement: SqlStatement) -> list[Any]:
        """A hot read (a page of ingestions, one ingestion, an API key): one statement on the
        hot-read pool, with no session, ORM or BEGIN around it (through a session the page
        cost twice its time). Requests take its connections strictly in arrival order
        (asyncpg alone lets a newcomer overtake a waiting request, which doubled the list's
        p99); a request that waits longer than the pool's bound gets 503; a connection found
        dead (PostgreSQL restarted) is dropped with the rest and the read runs once more."""
        if self._hot is None:
            raise DatabaseUnavailable("the API's database pool is not open")
        try:
            async with asyncio.timeout(self.pool_timeout):
                await self._gate.acquire()
        except TimeoutError as error:
            raise self._busy() from error
        try:
            try:
                return list(await self._hot.fetch(statement.sql, *statement.arguments))
            except CONNECTION_LOST:
                await self._hot.expire_connections()
                return list(await self._hot.fetch(statement.sql, *statement.arguments))
        except _UNAVAILABLE as error:
            raise DatabaseUnavailable(f"the metadata database is unavailable: {error!r}") from error
        finally:
            self._gate.release()

    async def dispose(self) -> None:
        if self._hot is not None:
            await self._hot.close()
        await self.engine.dispose()

    def _busy(self) -> DatabaseBusy:
        return DatabaseBusy(
            f"every database connection of this API process stayed busy for "
            f"{self.pool_timeout:g} s; try again"
        )
