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


def ingestion_of(ingestion_id: uuid.UUID | None, spec: dict[str, Any] | None) -> Ingestion:
    if ingestion_id is not None:
        from autoloader_flows.steps import ensure_credential_granted, ensure_table_available
        from autoloader_flows.steps import ingestion_of as saved

        ingestion = saved(ingestion_id)
        ensure_credential_granted(ingestion)  # an unsaved spec's was checked by the API
        ensure_table_available(ingestion)
        return ingestion
    if not spec:
        raise ValueError("a preview needs an ingestion id or a spec")
    # Validated again here, as the API did: a run's parameters are not trusted.
    return Ingestion.draft(IngestionSpec.model_validate(spec))  # nothing is stored


@flow(name=PREVIEW_FLOW, persist_result=False, log_prints=False)
def preview_ingestion(
    ingestion_id: uuid.UUID | None = None,
    spec: dict[str, Any] | None = None,
    max_files: int = 10,
    limit: int = 20,
) -> dict[str, Any]:
    with scrubbed_errors():
        return _preview(ingestion_id, spec, max_files, limit)


def _preview(
    ingestion_id: uuid.UUID | None, spec: dict[str, Any] | None, max_files: int, limit: int
) -> dict[str, Any]:
    from autoloader_ingest.preview import preview_ingestion as preview

    from autoloader_spark.session import close_all, connect
    from autoloader_storage.reach import ReachPolicy

    ingestion = ingestion_of(ingestion_id, spec)
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
    }
    Artifact(type=PREVIEW_ARTIFACT_TYPE, data=result, description="Autoloader preview").create()
    get_run_logger().info(
        "previewed %d of %d matching files in %.1f s",
        len(found.sampled_files),
        found.matching_files,
        found.seconds,
    )
    return result
