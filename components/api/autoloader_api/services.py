"""What the routes share for the life of the process: settings, the metadata store, and one
Prefect client with the orchestration objects built on it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from autoloader_orchestration.previews import Previews
from autoloader_orchestration.queues import QueueNames, ensure_work_pool
from autoloader_orchestration.scheduling import Orchestrator
from prefect.client.orchestration import PrefectClient

from autoloader_api.auth import KeyCache
from autoloader_api.database import Database
from autoloader_api.errors import OrchestratorUnavailable, prefect_guard
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
    # Calls to Prefect in flight from this process: past it, requests queue here (bounded by
    # their deadline) instead of piling onto Prefect's API until every call times out there.
    prefect_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(4))
    _pool_ready: bool = False
    _pool_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _prefect_healthy_until: float = 0.0

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
            prefect_slots=asyncio.Semaphore(settings.api_prefect_concurrency),
        )

    @asynccontextmanager
    async def prefect_call(self) -> AsyncIterator[None]:
        """Around every call to Prefect: one of this process's slots, then the call bounded
        in time; Prefect slow or failing is 503."""
        async with self.prefect_slots:
            try:
                async with prefect_guard(self.settings.prefect_timeout_seconds):
                    yield
            except OrchestratorUnavailable:
                self._prefect_healthy_until = 0.0  # the next change checks Prefect first
                raise

    async def check_prefect(self) -> None:
        """Raises OrchestratorUnavailable unless Prefect answered its health check within the
        last second (one probe serves every request of that second)."""
        if time.monotonic() < self._prefect_healthy_until:
            return
        async with self.prefect_call():
            failure = await self.prefect.api_healthcheck()
        if failure is not None:
            raise OrchestratorUnavailable(f"Prefect is not healthy ({type(failure).__name__})")
        self._prefect_healthy_until = time.monotonic() + 1.0

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
