import uuid
from datetime import UTC, datetime

from autoloader_metadata.enums import FileFormat, IngestionStatus
from autoloader_metadata.models import Ingestion
from autoloader_orchestration.deployments import DeploymentSpec
from prefect.client.schemas.responses import DeploymentResponse
from prefect.client.schemas.schedules import CronSchedule

NOW = datetime.now(UTC)


def ingestion(**fields: object) -> Ingestion:
    values: dict[str, object] = {
        "id": uuid.uuid4(),
        "tenant_id": uuid.uuid4(),
        "name": "orders",
        "status": IngestionStatus.ACTIVE,
        "source_uri": "s3://landing/orders/",
        "credential_ref": "env:ORDERS",
        "format": FileFormat.CSV,
        "schedule_cron": "*/5 * * * *",
        "schedule_timezone": "Europe/Paris",
        **fields,
    }
    return Ingestion(**values)


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
