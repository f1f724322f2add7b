"""What the routes share for the life of the process: settings, the metadata store, and one
Prefect client with the orchestration objects built on it."""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

import httpx
from autoloader_orchestration.previews import Previews
from autoloader_orchestration.queues import QueueNames, ensure_work_pool
from autoloader_orchestration.scheduling import Orchestrator
from prefect.client.orchestration import PrefectClient

from autoloader_api.auth import KeyCache
from autoloader_api.database import Database
from autoloader_api.errors import prefect_guard
from autoloader_core.settings import Settings
from autoloader_storage.reach import ReachPolicy


@dataclass
class Services:
    settings: Settings
    db: Database
    prefect: PrefectClient
    orchestrator: Orchestrator
    previews: Previews
    reach: ReachPolicy
    keys: KeyCache
    _pool_ready: bool = False
    _pool_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    def of(cls, settings: Settings) -> Services:
        # httpx's own timeout bounds each request; prefect() bounds a call with its retries.
        timeout = httpx.Timeout(settings.prefect_timeout_seconds)
        prefect = PrefectClient(settings.prefect_api_url, httpx_settings={"timeout": timeout})
        return cls(
            settings=settings,
            db=Database(settings),
            prefect=prefect,
            orchestrator=Orchestrator(prefect, settings),
            previews=Previews(prefect, settings),
            reach=ReachPolicy.of(settings),
            keys=KeyCache(settings.api_key_cache_seconds),
        )

    def prefect_call(self) -> AbstractAsyncContextManager[None]:
        """Around every call to Prefect: bounded in time, and Prefect failing is 503."""
        return prefect_guard(self.settings.prefect_timeout_seconds)

    async def ensure_work_pool(self) -> None:
        """The pool and its queues exist before the first deployment names them (once)."""
        if self._pool_ready:
            return
        async with self._pool_lock, self.prefect_call():
            if not self._pool_ready:
                await ensure_work_pool(
                    self.prefect, self.settings.work_pool, QueueNames.of(self.settings)
                )
                self._pool_ready = True

    async def close(self) -> None:
        await self.db.dispose()

    @property
    def queue_names(self) -> list[str]:
        queues = QueueNames.of(self.settings)
        return [queues.priority, queues.default, queues.high_memory]
