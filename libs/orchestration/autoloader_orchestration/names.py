"""How Autoloader's objects are named in Prefect; the flows component must match these."""

from __future__ import annotations

import uuid

# The flow each ingestion's deployment runs, by module path: workers import it from their own
# installed code (no pull steps, no storage block).
INGESTION_FLOW = "autoloader-ingestion"
INGESTION_ENTRYPOINT = "autoloader_flows.ingestion.run_ingestion"
PREVIEW_FLOW = "autoloader-preview"
PREVIEW_ENTRYPOINT = "autoloader_flows.preview.preview_ingestion"
PREVIEW_DEPLOYMENT = "preview"  # one for every ingestion: previews run on the priority queue
PREVIEW_ARTIFACT_TYPE = "autoloader-preview"
RUN_SUMMARY_ARTIFACT_TYPE = "autoloader-run-summary"  # a finished run's files, rows, failures


def deployment_name(ingestion_id: uuid.UUID) -> str:
    return f"ingestion-{ingestion_id}"


def tenant_tag(tenant_id: uuid.UUID) -> str:
    return f"tenant:{tenant_id}"


def source_tag(kind: str) -> str:
    return f"source:{kind}"
