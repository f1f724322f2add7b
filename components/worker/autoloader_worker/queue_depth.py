"""The work_queue_depth gauge: runs due and not yet started, per queue of the worker's pool."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from prefect.client.orchestration import PrefectClient, get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterExpectedStartTime,
    FlowRunFilterState,
    FlowRunFilterStateType,
    WorkPoolFilter,
    WorkPoolFilterName,
    WorkQueueFilter,
    WorkQueueFilterName,
)
from prefect.client.schemas.objects import StateType

from autoloader_worker.metrics import PREFECT_API_UP, QUEUE_DEPTH

log = logging.getLogger("autoloader.worker.queues")
WAITING = [StateType.SCHEDULED, StateType.PENDING]


async def queue_depths(client: PrefectClient, pool: str) -> dict[str, int]:
    depths = {}
    for queue in await client.read_work_queues(work_pool_name=pool):
        depths[queue.name] = await client.count_flow_runs(
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=WAITING)),
                expected_start_time=FlowRunFilterExpectedStartTime.model_validate(
                    {"before_": datetime.now(UTC)}
                ),
            ),
            work_pool_filter=WorkPoolFilter(name=WorkPoolFilterName(any_=[pool])),
            work_queue_filter=WorkQueueFilter(name=WorkQueueFilterName(any_=[queue.name])),
        )
    return depths


async def export_queue_depths_forever(pool: str, every: float = 15) -> None:
    while True:
        try:
            async with get_client() as client:
                for queue, depth in (await queue_depths(client, pool)).items():
                    QUEUE_DEPTH.labels(queue=queue).set(depth)
            PREFECT_API_UP.set(1)
        except asyncio.CancelledError:
            raise
        except Exception:
            PREFECT_API_UP.set(0)
            log.warning("could not read the depth of the work queues", exc_info=True)
        await asyncio.sleep(every)
