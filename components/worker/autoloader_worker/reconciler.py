"""The workers' reconciliation loop: every few seconds one worker (a database lock decides)
crashes dead runs, settles their batches against Iceberg, and repairs deployments."""

from __future__ import annotations

import asyncio
import logging
import uuid

import anyio  # pants: no-infer-dep (comes with prefect)
from autoloader_ingest.batches import recover_batch
from autoloader_metadata.db import make_engine, session_factory
from autoloader_model.ingestion import Ingestion
from autoloader_orchestration.reconcile import Settle, reconcile
from prefect.client.orchestration import get_client
from sqlalchemy.orm import Session, sessionmaker

from autoloader_core.settings import Settings
from autoloader_spark.session import connect
from autoloader_worker.metrics import RECONCILE_ACTIONS

log = logging.getLogger("autoloader.worker.reconcile")


def spark_settler(settings: Settings, sessions: sessionmaker[Session]) -> Settle:
    async def settle(ingestion: Ingestion, batch_id: uuid.UUID) -> bool:
        def recover() -> bool:
            spark = connect(settings.spark_remote_of(ingestion.spec.cluster))
            return recover_batch(sessions, spark, ingestion, batch_id)

        return await anyio.to_thread.run_sync(recover)

    return settle


async def reconcile_forever(settings: Settings) -> None:
    sessions = session_factory(make_engine(settings.database_url.get_secret_value(), pool_size=2))
    settle = spark_settler(settings, sessions)
    while True:
        try:
            async with get_client() as client:
                report = await reconcile(sessions, client, settings, settle=settle)
            _count(report.crashed_runs, "run_crashed")
            _count(list(report.settled_batches), "batch_settled")
            _count(list(report.repaired_deployments), "deployment_repaired")
            if not report.skipped:
                for line in report.lines():
                    if line != "nothing to do":
                        log.warning("reconcile: %s", line)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("reconciliation failed; trying again next period")
        await asyncio.sleep(settings.reconcile_every_seconds)


def _count(items: list[uuid.UUID], action: str) -> None:
    if items:
        RECONCILE_ACTIONS.labels(action=action).inc(len(items))
