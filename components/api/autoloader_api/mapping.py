"""An ingestion's row in the metadata store, to and from the API's nested form."""

from __future__ import annotations

from typing import Any

from autoloader_metadata.enums import IngestionStatus
from autoloader_metadata.models import Ingestion

from autoloader_api import validation
from autoloader_api.schemas import IngestionCreate
from autoloader_spark.options import CorruptRecords

CORRUPT_OPTION = "corruptRecords"  # how libs/ingest reads the rule from format_options


def columns_of(spec: IngestionCreate) -> dict[str, Any]:
    """The ingestion row's columns for a validated spec."""
    options = validation.scalar_options(spec.format.options)
    if spec.format.corrupt_records is not CorruptRecords.KEEP:
        options[CORRUPT_OPTION] = spec.format.corrupt_records.value
    return {
        "name": spec.name,
        "cluster": spec.cluster,
        "source_uri": spec.source.uri,
        "source_glob": spec.source.glob,
        "credential_ref": spec.source.credential_ref,
        "min_file_age_seconds": spec.source.min_file_age_seconds,
        "max_file_age_seconds": spec.source.max_file_age_seconds,
        "start_date": spec.source.start_date,
        "rewritten_file_policy": spec.source.rewritten_files,
        "listing_mode": spec.source.listing_mode,
        "full_listing_every": spec.source.full_listing_every,
        "format": spec.format.type,
        "format_options": options,
        "schema_ddl": spec.format.schema_ddl,
        "schema_evolution": spec.format.schema_evolution,
        "destination_catalog": spec.destination.catalog,
        "destination_namespace": spec.destination.namespace,
        "destination_table": spec.destination.table,
        "partitioning": spec.destination.partitioning,
        "table_properties": spec.destination.properties,
        "schedule_cron": spec.schedule.cron,
        "schedule_timezone": spec.schedule.timezone,
        "max_files_per_batch": spec.batch.max_files,
        "max_bytes_per_batch": spec.batch.max_bytes,
        "work_queue_override": spec.work_queue,
    }


def spec_of(row: Ingestion | Any) -> dict[str, Any]:
    """The nested form of a stored ingestion (a PATCH merges into it)."""
    options = dict(row.format_options or {})
    corrupt = options.pop(CORRUPT_OPTION, CorruptRecords.KEEP.value)
    return {
        "name": row.name,
        "source": {
            "uri": row.source_uri,
            "glob": row.source_glob,
            "credential_ref": row.credential_ref,
            "min_file_age_seconds": row.min_file_age_seconds,
            "max_file_age_seconds": row.max_file_age_seconds,
            "start_date": row.start_date,
            "rewritten_files": row.rewritten_file_policy,
            "listing_mode": row.listing_mode,
            "full_listing_every": row.full_listing_every,
        },
        "format": {
            "type": row.format,
            "options": options,
            "schema_ddl": row.schema_ddl,
            "schema_evolution": row.schema_evolution,
            "corrupt_records": CorruptRecords(corrupt),
        },
        "destination": {
            "catalog": row.destination_catalog,
            "namespace": row.destination_namespace,
            "table": row.destination_table,
            "partitioning": list(row.partitioning or []),
            "properties": dict(row.table_properties or {}),
        },
        "schedule": {"cron": row.schedule_cron, "timezone": row.schedule_timezone},
        "batch": {"max_files": row.max_files_per_batch, "max_bytes": row.max_bytes_per_batch},
        "work_queue": row.work_queue_override,
        "cluster": row.cluster,
        "paused": row.status is IngestionStatus.PAUSED,
    }


def merged(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """`current` with `patch` laid over it; nested objects merge, other values replace."""
    result = dict(current)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict) and key != "options":
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result
