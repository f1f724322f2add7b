"""What the routes share for the life of the process: settings, the metadata store, and one
Prefect client with the orchestration objects built on it."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from autoloader_metadata.db import make_engine, session_factory
from autoloader_metadata.reads import ReadPool, open_read_pool
from autoloader_orchestration.previews import Previews
from autoloader_orchestration.queues import QueueNames, ensure_work_pool
from autoloader_orchestration.scheduling import Orchestrator
from prefect.client.orchestration import PrefectClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from autoloader_api.auth import KeyCache
from autoloader_api.errors import prefect_guard
from autoloader_core.settings import Settings
from autoloader_storage.reach import ReachPolicy


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    reads: sessionmaker[Session]  # autocommit: a read skips BEGIN and ROLLBACK round trips
    prefect: PrefectClient
    orchestrator: Orchestrator
    previews: Previews
    reach: ReachPolicy
    keys: KeyCache
    # The hot reads (ingestions' JSON) on asyncpg; opened in the event loop, by open().
    documents: ReadPool = field(init=False)
    _pool_ready: bool = False
    _pool_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    def of(cls, settings: Settings) -> Services:
        url = settings.database_url.get_secret_value()
        size = settings.api_database_pool_size
        engine = make_engine(url, pool_size=size, max_overflow=size)
        prefect = PrefectClient(settings.prefect_api_url)
        return cls(
            settings=settings,
            engine=engine,
            reads=session_factory(engine.execution_options(isolation_level="AUTOCOMMIT")),
            sessions=session_factory(engine),
            prefect=prefect,
            orchestrator=Orchestrator(prefect, settings),
            previews=Previews(prefect, settings),
            reach=ReachPolicy.of(settings),
            keys=KeyCache(settings.api_key_cache_seconds),
        )

    async def ensure_work_pool(self) -> None:
        """The pool and its queues exist before the first deployment names them (once)."""
        if self._pool_ready:
            return
        async with self._pool_lock, prefect_guard():
            if not self._pool_ready:
                await ensure_work_pool(
                    self.prefect, self.settings.work_pool, QueueNames.of(self.settings)
                )
                self._pool_ready = True

    async def open(self) -> None:
        self.documents = await open_read_pool(
            self.settings.database_url.get_secret_value(), self.settings.api_database_pool_size
        )

    async def close(self) -> None:
        await self.documents.close()
        self.engine.dispose()

    @property
    def queue_names(self) -> list[str]:
        queues = QueueNames.of(self.settings)
        return [queues.priority, queues.default, queues.high_memory]
