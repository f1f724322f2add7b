"""A Prefect worker that meters its runs and can drain: stop taking runs, finish the ones it
has. Works for any Prefect worker type (process, kubernetes)."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable
from typing import Any, Protocol, cast

from autoloader_orchestration.runs import Runs
from prefect.client.schemas.objects import FlowRun
from prefect.workers.base import BaseWorker

from autoloader_worker.metrics import (
    ACTIVE_TASKS,
    FLOW_RUN_DURATION,
    FLOW_RUNS,
    count_run,
    status_label,
)

log = logging.getLogger("autoloader.worker")


class DrainableWorker(Protocol):
    @property
    def active_runs(self) -> int:
        ...

    def drain(self) -> None:
        ...

    async def start(self) -> None:
        ...

    async def get_and_submit_flow_runs(self) -> list[FlowRun]:
        ...


def draining_worker(base: type[BaseWorker[Any, Any, Any]]) -> Callable[..., DrainableWorker]:
    """`base` with metrics around each run and a `drain()` that stops polling."""

    # Prefect registers worker classes by type; this one stands in for `base` in this process.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*will be overridden", category=UserWarning)
        worker_class = _subclass(base)
    return cast(Callable[..., DrainableWorker], worker_class)


def start_engine_directly(configuration: Any) -> None:
    """Makes a process worker start `python -m prefect.engine` itself, instead of a workspace
    supervisor process that then starts the engine: one interpreter start less per run (about
    a second here). Autoloader's flows need no workspace: no pull steps, no storage, their code
    is installed. Prefect 3.9 keeps this switch private; a test pins it.
    """
    if hasattr(configuration, "_command_configured") and getattr(configuration, "command", None):
        configuration._command_configured = True


def _subclass(base: type[BaseWorker[Any, Any, Any]]) -> type[BaseWorker[Any, Any, Any]]:
    class DrainingWorker(base):  # type: ignore[valid-type, misc]
        _draining = False
        _active = 0

        def drain(self) -> None:
            self._draining = True

        @property
        def active_runs(self) -> int:
            return self._active

        async def get_and_submit_flow_runs(self) -> list[FlowRun]:
            if self._draining:
                return []
            runs: list[FlowRun] = await super().get_and_submit_flow_runs()
            return runs

        async def run(self, flow_run: FlowRun, *args: Any, **kwargs: Any) -> Any:
            configuration = kwargs.get("configuration", args[0] if args else None)
            start_engine_directly(configuration)
            self._active += 1
            ACTIVE_TASKS.inc()
            started = time.monotonic()
            try:
                return await super().run(flow_run, *args, **kwargs)
            finally:
                self._active -= 1
                ACTIVE_TASKS.dec()
                FLOW_RUN_DURATION.observe(time.monotonic() - started)
                FLOW_RUNS.labels(status=await self._final_state_of(flow_run)).inc()
                await self._count_summary_of(flow_run)

        async def _final_state_of(self, flow_run: FlowRun) -> str:
            try:
                current = await self.client.read_flow_run(flow_run.id)
            except Exception:
                return "unknown"
            return status_label(current.state.name if current.state else None)

        async def _count_summary_of(self, flow_run: FlowRun) -> None:
            """Files, rows and bytes of an ingestion run, from the summary it published."""
            try:
                summary = await Runs(self.client).summary(flow_run.id)
            except Exception:
                log.warning("could not read the summary of run %s", flow_run.id, exc_info=True)
                return
            if summary is not None:  # a preview, or a run that ended before its summary
                count_run(summary)

    DrainingWorker.__name__ = f"Draining{base.__name__}"
    return DrainingWorker
