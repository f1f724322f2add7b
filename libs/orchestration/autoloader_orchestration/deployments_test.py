import asyncio
import logging
import uuid
from datetime import UTC, datetime
from typing import Any, cast

import httpx
import pytest
from autoloader_metadata.enums import FileFormat, IngestionStatus
from autoloader_model.ingestion import Ingestion, spec_of_columns
from autoloader_orchestration.deployments import Deployments, DeploymentSpec
from prefect.client.orchestration import PrefectClient
from prefect.client.schemas.responses import DeploymentResponse
from prefect.client.schemas.schedules import CronSchedule

NOW = datetime.now(UTC)


def ingestion(status: IngestionStatus = IngestionStatus.ACTIVE, **fields: object) -> Ingestion:
    columns: dict[str, object] = {
        "name": "orders",
        "source_uri": "s3://landing/orders/",
        "credential_ref": "env:ORDERS",
        "format": FileFormat.CSV,
        "destination_catalog": "lake",
        "destination_namespace": "sales",
        "destination_table": "orders",
        "schedule_cron": "*/5 * * * *",
        "schedule_timezone": "Europe/Paris",
        **fields,
    }
    return Ingestion.draft(spec_of_columns(**columns)).model_copy(
        update={"id": uuid.uuid4(), "tenant_id": uuid.uuid4(), "status": status, "version": 1}
    )


def deployment_like(spec: DeploymentSpec, **changes: object) -> DeploymentResponse:
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "name": spec.name,
        "flow_id": uuid.uuid4(),
        "parameters": spec.parameters,
        "tags": spec.tags,
        "work_pool_name": spec.work_pool,
        "work_queue_name": spec.work_queue,
        "entrypoint": spec.entrypoint,
        "paused": spec.paused,
        "global_concurrency_limit": {
            "id": uuid.uuid4(),
            "name": "deployment",
            "limit": 1,
            "active": True,
            "active_slots": 0,
            "slot_decay_per_second": 0,
            "created": NOW,
            "updated": NOW,
        },
        "concurrency_options": {"collision_strategy": "ENQUEUE"},
        "schedules": [
            {
                "id": uuid.uuid4(),
                "deployment_id": uuid.uuid4(),
                "schedule": CronSchedule(cron=spec.cron or "", timezone=spec.timezone),
                "active": True,
            }
        ],
        **changes,
    }
    return DeploymentResponse.model_validate(fields)


def test_the_deployment_carries_only_the_ingestion_id_and_its_tags() -> None:
    row = ingestion()
    spec = DeploymentSpec.of(row, "autoloader", "default")

    assert spec.parameters == {"ingestion_id": str(row.id)}
    assert "env:ORDERS" not in str(spec)  # not even the name of a credential
    assert spec.tags == sorted([f"tenant:{row.tenant_id}", "source:s3"])
    assert (spec.cron, spec.timezone, spec.paused) == ("*/5 * * * *", "Europe/Paris", False)
    assert spec.concurrency_limit == 1


def test_the_description_says_which_ingestion_and_links_to_the_console() -> None:
    row = ingestion()
    spec = DeploymentSpec.of(row, "autoloader", "default", console_url="http://al.example/ui/")

    assert "**orders**" in spec.description
    assert f"tenant: `{row.tenant_id}`" in spec.description
    assert "source: `s3://landing/orders/`" in spec.description
    assert "table: `lake.sales.orders`" in spec.description
    assert f"http://al.example/ui/#/ingestions/{row.id}" in spec.description
    assert "console" not in DeploymentSpec.of(row, "autoloader", "default").description


def test_a_paused_ingestion_has_a_paused_deployment() -> None:
    assert DeploymentSpec.of(ingestion(status=IngestionStatus.PAUSED), "p", "q").paused


def test_a_matching_deployment_has_no_differences() -> None:
    spec = DeploymentSpec.of(ingestion(), "autoloader", "default")
    assert spec.differences(deployment_like(spec)) == []


def test_differences_name_the_fields_that_drifted() -> None:
    spec = DeploymentSpec.of(ingestion(), "autoloader", "default")
    drifted = deployment_like(
        spec, work_queue_name="high-memory", paused=True, schedules=[], parameters={}
    )
    assert spec.differences(drifted) == ["parameters", "work_queue", "paused", "schedule"]


class RecordingClient:
    """Answers the calls `Deployments.upsert` makes and records which it made."""

    def __init__(self, scheduling_fails: bool = False) -> None:
        self.deployment_id = uuid.uuid4()
        self.calls: list[tuple[str, Any]] = []
        self.scheduling_fails = scheduling_fails

    async def create_flow_from_name(self, name: str) -> uuid.UUID:
        return uuid.uuid4()

    async def create_deployment(self, **fields: Any) -> uuid.UUID:
        self.calls.append(("create", fields["paused"]))
        return self.deployment_id

    async def request(self, method: str, path: str, **kwargs: Any) -> None:
        of_this_deployment = kwargs["path_params"]["id"] == self.deployment_id
        self.calls.append((f"{method} {path}", of_this_deployment))
        if self.scheduling_fails:
            raise httpx.ConnectError("connection refused")


def upsert_calls(row: Ingestion, client: RecordingClient | None = None) -> list[tuple[str, Any]]:
    client = client or RecordingClient()
    spec = DeploymentSpec.of(row, "autoloader", "default")
    returned = asyncio.run(Deployments(cast(PrefectClient, client)).upsert(spec))
    assert returned == client.deployment_id
    return client.calls


def test_an_active_scheduled_deployment_gets_its_runs_when_written() -> None:
    assert upsert_calls(ingestion()) == [
        ("create", False),
        ("POST /deployments/{id}/schedule", True),
    ]


def test_a_paused_or_unscheduled_deployment_gets_no_runs() -> None:
    assert upsert_calls(ingestion(status=IngestionStatus.PAUSED)) == [("create", True)]
    assert upsert_calls(ingestion(schedule_cron=None)) == [("create", False)]


def test_a_failed_scheduling_keeps_the_written_deployment(caplog: pytest.LogCaptureFixture) -> None:
    client = RecordingClient(scheduling_fails=True)
    with caplog.at_level(logging.WARNING):
        calls = upsert_calls(ingestion(), client)  # returns the deployment's id, raises nothing
    assert calls[-1] == ("POST /deployments/{id}/schedule", True)
    assert f"deployment {client.deployment_id} is written" in caplog.text
