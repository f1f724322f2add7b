"""The API's hot reads on asyncpg, apart from db.py: importing asyncpg takes ~150 ms, and every
flow run process imports db.py before it reaches RUNNING."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import asyncpg
from autoloader_metadata.errors import DatabaseUnavailable
from sqlalchemy.engine import make_url

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


@dataclass(frozen=True)
class ReadPool:
    """An asyncpg pool behind a first-come, first-served gate.

    asyncpg hands a released connection to whichever request asks next, so under load a
    request can be overtaken again and again while it waits (asyncio.Queue lets newcomers
    take a free item before a woken waiter runs). asyncio.Semaphore queues strictly in order,
    and with one permit per connection the pool itself is never waited on. Measured with 50
    clients on 2 API processes of 10 connections each: list p99/p50 went from ~2.6 to ~1.9.
    """

    pool: asyncpg.Pool
    gate: asyncio.Semaphore

    async def close(self) -> None:
        await self.pool.close()


async def _keep_session(connection: asyncpg.Connection) -> None:
    """What the pool runs on a connection handed back, besides ending any open transaction:
    nothing. These connections only run single read statements, which leave no session state,
    and asyncpg's default reset (advisory unlocks, CLOSE ALL, UNLISTEN, RESET ALL) costs a
    round trip and about a third of PostgreSQL's time per page of ingestions."""


async def open_read_pool(url: str, size: int = 10) -> ReadPool:
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
            reset=_keep_session,
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
    return ReadPool(pool, asyncio.Semaphore(size))


async def read(reads: ReadPool, statement: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
    """`statement(pool)`, a read-only statement, run a second time on fresh connections when
    its connection was lost (as after a PostgreSQL restart or failover, which leaves the whole
    pool dead); a database still down, or too slow, is DatabaseUnavailable."""
    async with reads.gate:
        try:
            try:
                return await statement(reads.pool)
            except CONNECTION_LOST:
                await reads.pool.expire_connections()
                return await statement(reads.pool)
        except _UNAVAILABLE as error:
            raise DatabaseUnavailable(f"the metadata database is unavailable: {error!r}") from error
