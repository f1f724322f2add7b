"""preview_ingestion: what loading a sample of an ingestion's files would produce, saved
ingestion or unsaved spec, writing nothing. Runs on the priority queue; its result is stored
as a Prefect artifact of the run (the API reads it back), and returned."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from typing import Any

from autoloader_model.ingestion import Ingestion
from autoloader_model.spec import IngestionSpec
from autoloader_orchestration.names import PREVIEW_ARTIFACT_TYPE, PREVIEW_FLOW
from prefect import flow, get_run_logger
from prefect.artifacts import Artifact

from autoloader_flows.context import settings
from autoloader_flows.secrets import scrub_logs, scrubbed_errors

scrub_logs()


def ingestion_of(
    ingestion_id: uuid.UUID | None, spec: dict[str, Any] | None, tenant_id: uuid.UUID | None
) -> Ingestion:
    """The ingestion to preview, checked here as the API checked it: a run's parameters are
    not trusted (anyone who reaches Prefect can start this flow). The source's reach rules are
    applied by the preview itself."""
    from autoloader_flows.steps import ensure_credential_granted, ensure_table_available
    from autoloader_flows.steps import ingestion_of as saved

    if ingestion_id is not None:
        ingestion = saved(ingestion_id)
    elif not spec or tenant_id is None:
        raise ValueError("a preview needs an ingestion id, or a spec and the tenant asking")
    else:
        ingestion = Ingestion.draft(IngestionSpec.model_validate(spec), tenant_id)
    ensure_credential_granted(ingestion)
    ensure_table_available(ingestion)
    return ingestion


@flow(name=PREVIEW_FLOW, persist_result=False, log_prints=False)
def preview_ingestion(
    ingestion_id: uuid.UUID | None = None,
    spec: dict[str, Any] | None = None,
    max_files: int = 10,
    limit: int = 20,
    tenant_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    with scrubbed_errors():
        return _preview(ingestion_id, spec, max_files, limit, tenant_id)


def _preview(
    ingestion_id: uuid.UUID | None,
    spec: dict[str, Any] | None,
    max_files: int,
    limit: int,
    tenant_id: uuid.UUID | None,
) -> dict[str, Any]:
    from autoloader_ingest.preview import preview_ingestion as preview

    from autoloader_spark.session import close_all, connect
    from autoloader_storage.reach import ReachPolicy

    ingestion = ingestion_of(ingestion_id, spec, tenant_id)
    spark = connect(settings().spark_remote_of(ingestion.spec.cluster))
    try:
        found = preview(
            spark, ingestion, max_files=max_files, limit=limit, reach=ReachPolicy.of(settings())
        )
    finally:
        close_all()
    result = {
        "columns": [{"name": name, "type": kind} for name, kind in found.result.columns],
        "table_exists": found.result.table_exists,
        "schema_diff": asdict(found.result.diff),
        "rows": json.loads(json.dumps(found.result.rows, default=str)),
        "matching_files": found.matching_files,
        "sampled_files": found.sampled_files,
        "seconds": round(found.seconds, 3),
        "warnings": found.warnings,
    }
    Artifact(type=PREVIEW_ARTIFACT_TYPE, data=result, description="Autoloader preview").create()
    get_run_logger().info(
        "previewed %d of %d matching files in %.1f s",
        len(found.sampled_files),
        found.matching_files,
        found.seconds,
    )
    return result
