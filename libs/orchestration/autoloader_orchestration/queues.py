"""The work pool, its queues, and which queue a run goes to (design note, section 7.2)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

from autoloader_core.settings import Settings


class RunKind(StrEnum):
    SCHEDULED = "scheduled"
    MANUAL = "manual"
    RETRY = "retry"
    PREVIEW = "preview"


@dataclass(frozen=True)
class QueueNames:
    priority: str
    default: str
    high_memory: str

    @classmethod
    def of(cls, settings: Settings) -> QueueNames:
        return cls(settings.priority_queue, settings.default_queue, settings.high_memory_queue)

    def all(self) -> tuple[str, str, str]:
        return (self.priority, self.default, self.high_memory)


# Lower is served first when a worker pulls from several queues.
QUEUE_PRIORITIES = {"priority": 1, "default": 2, "high_memory": 3}


def choose_queue(
    kind: RunKind,
    queues: QueueNames,
    pending_bytes: int = 0,
    high_memory_threshold: int | None = None,
    override: str | None = None,
) -> str:
    """An explicit override wins; manual runs, retries and previews go to priority; an ingestion
    with more pending bytes than the threshold goes to high-memory; the rest to default."""
    if override:
        return override
    if kind is not RunKind.SCHEDULED:
        return queues.priority
    if high_memory_threshold is not None and pending_bytes > high_memory_threshold:
        return queues.high_memory
    return queues.default


async def ensure_work_pool(
    client: PrefectClient,
    pool: str,
    queues: QueueNames,
    pool_type: str = "process",
    base_job_template: dict[str, Any] | None = None,
) -> list[str]:
    """Creates the pool and its queues when absent; leaves existing ones as they are.

    Returns what it created. Queues are created before any deployment names them (creating
    them implicitly from concurrent deployment writes races in Prefect).
    """
    created: list[str] = []
    try:
        await client.read_work_pool(pool)
    except ObjectNotFound:
        try:
            await client.create_work_pool(
                WorkPoolCreate(
                    name=pool,
                    type=pool_type,
                    base_job_template=base_job_template or _process_job_template(pool_type),
                )
            )
            created.append(f"work pool {pool}")
        except ObjectAlreadyExists:
            pass
    existing = {queue.name for queue in await client.read_work_queues(work_pool_name=pool)}
    for role, name in zip(("priority", "default", "high_memory"), queues.all(), strict=True):
        if name in existing:
            continue
        try:
            await client.create_work_queue(
                name=name, work_pool_name=pool, priority=QUEUE_PRIORITIES[role]
            )
            created.append(f"work queue {pool}/{name}")
        except ObjectAlreadyExists:
            pass
    return created


def _process_job_template(pool_type: str) -> dict[str, Any]:
    if pool_type != "process":
        raise ValueError(f"a {pool_type!r} work pool needs its worker's base job template")
    from prefect.workers.process import ProcessWorker

    return ProcessWorker.get_default_base_job_template()
