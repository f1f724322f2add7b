"""Entry point of the worker PEX: a Prefect worker on Autoloader's work pool.

It pulls runs from the queues it is given (all of the pool's by default), at most `--limit` at
once, exports Prometheus metrics, reconciles dead runs in the background, and on SIGTERM stops
taking runs and lets the running ones finish (up to `--grace-seconds`) before it exits.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from autoloader_core.settings import Settings, get_settings

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

# Poll often: a manual trigger should reach RUNNING within a few seconds (Prefect polls every 10).
DEFAULT_QUERY_SECONDS = "0.5"
log = logging.getLogger("autoloader.worker")


@dataclass(frozen=True)
class WorkerOptions:
    pool: str
    queues: list[str]
    limit: int | None
    name: str | None
    worker_type: str
    metrics_port: int
    reconcile: bool
    grace_seconds: float
    ingestion_metrics: bool = True


def parse_args(argv: list[str] | None, settings: Settings) -> WorkerOptions:
    parser = argparse.ArgumentParser(
        prog="autoloader-worker",
        description="Run a Prefect worker that executes Autoloader flow runs.",
    )
    parser.add_argument("--pool", default=settings.work_pool, help="Prefect work pool")
    parser.add_argument(
        "--queue",
        action="append",
        default=[],
        dest="queues",
        help="work queue to pull from (repeatable; default: every queue of the pool)",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="runs at once (1 = single-task worker, for high-memory; default: no limit)",
    )
    parser.add_argument("--name", default=None, help="worker name shown in Prefect")
    parser.add_argument(
        "--type",
        dest="worker_type",
        choices=("process", "kubernetes"),
        default="process",
        help="process: each run is a subprocess here; kubernetes: each run is a Job",
    )
    parser.add_argument(
        "--metrics-port", type=int, default=9090, help="Prometheus metrics port (0: none)"
    )
    parser.add_argument(
        "--no-reconcile",
        dest="reconcile",
        action="store_false",
        help="do not run the reconciliation loop in this worker",
    )
    parser.add_argument(
        "--no-ingestion-metrics",
        dest="ingestion_metrics",
        action="store_false",
        help="do not export the ingestion_* gauges (read from the database at each scrape); "
        "one group of workers exporting them is enough",
    )
    parser.add_argument(
        "--grace-seconds",
        type=float,
        default=600,
        help="on SIGTERM, how long running flow runs may take to finish",
    )
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    return WorkerOptions(
        args.pool,
        args.queues,
        args.limit,
        args.name,
        args.worker_type,
        args.metrics_port,
        args.reconcile,
        args.grace_seconds,
        args.ingestion_metrics,
    )


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    options = parse_args(argv, settings)
    # Prefect reads its settings from the environment; set them before it is imported.
    os.environ.setdefault("PREFECT_API_URL", settings.prefect_api_url)
    os.environ.setdefault("PREFECT_WORKER_QUERY_SECONDS", DEFAULT_QUERY_SECONDS)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per Prefect API call
    asyncio.run(serve(options, settings))


async def serve(options: WorkerOptions, settings: Settings) -> None:
    from autoloader_orchestration.queues import QueueNames, ensure_work_pool
    from prefect.client.orchestration import get_client
    from prometheus_client import start_http_server

    from autoloader_worker.queue_depth import export_queue_depths_forever
    from autoloader_worker.reconciler import reconcile_forever
    from autoloader_worker.runner import draining_worker

    base, template = _worker_type(options.worker_type)
    async with get_client() as client:
        for created in await ensure_work_pool(
            client, options.pool, QueueNames.of(settings), options.worker_type, template
        ):
            log.info("created %s", created)
    if options.metrics_port:
        try:
            registry = metrics_registry(settings, options.ingestion_metrics)
            start_http_server(options.metrics_port, registry=registry)
        except OSError as error:
            raise SystemExit(
                f"cannot serve metrics on port {options.metrics_port} ({error.strerror}); "
                "choose another with --metrics-port, or 0 for none"
            ) from error
    worker = draining_worker(base)(
        work_pool_name=options.pool,
        work_queues=options.queues or None,
        limit=options.limit,
        name=options.name,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    background = [
        asyncio.create_task(worker.start(), name="worker"),
        asyncio.create_task(export_queue_depths_forever(options.pool), name="queue-depth"),
    ]
    if options.reconcile:
        background.append(asyncio.create_task(reconcile_forever(settings), name="reconcile"))
    stopping = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stopping, background[0]], return_when=asyncio.FIRST_COMPLETED)
    if background[0] in done:
        stopping.cancel()
        await background[0]  # the worker ended on its own: surface why
        return
    log.info("stopping: no new runs; waiting for %d running", worker.active_runs)
    worker.drain()
    waited = 0.0
    while worker.active_runs and waited < options.grace_seconds:
        await asyncio.sleep(0.5)
        waited += 0.5
    for task in background:
        task.cancel()
    await asyncio.gather(*background, return_exceptions=True)


def metrics_registry(settings: Settings, ingestion_state: bool = True) -> CollectorRegistry:
    """The worker's own metrics, and (with `ingestion_state`) the ingestions' state read from
    the database."""
    from prometheus_client import REGISTRY

    if not ingestion_state:
        return REGISTRY
    from autoloader_metadata.db import make_engine, session_factory

    from autoloader_worker.ingestion_state import IngestionStateCollector

    engine = make_engine(settings.database_url.get_secret_value(), pool_size=1)
    REGISTRY.register(IngestionStateCollector(session_factory(engine)))
    return REGISTRY


def _worker_type(name: str) -> tuple[type[Any], dict[str, Any] | None]:
    if name == "kubernetes":
        from prefect_kubernetes.worker import KubernetesWorker

        from autoloader_worker.kubernetes import job_template

        return KubernetesWorker, job_template()
    from prefect.workers.process import ProcessWorker

    return ProcessWorker, None


if __name__ == "__main__":
    main()
