"""The one typed model of a stored ingestion, and the document the API answers for it.

`Ingestion` is what the API, orchestration, discovery and loading take (never the ORM row). Its
`document()` is the API's IngestionOut; the store keeps that JSON beside the row so a page of
ingestions is one query for stored text, and a test checks it always equals a fresh render.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from types import SimpleNamespace
from typing import Any, Protocol

from autoloader_metadata.enums import FileFormat, FileStatus, IngestionStatus
from autoloader_model import validation
from autoloader_model.spec import (
    BatchBounds,
    DestinationSpec,
    FormatSpec,
    IngestionSpec,
    ScheduleSpec,
    SourceSpec,
    UtcTime,
)
from pydantic import BaseModel, ConfigDict, Field

from autoloader_spark.options import CorruptRecords

CORRUPT_OPTION = "corruptRecords"  # where the row's format_options keep the corrupt-records rule


class DeploymentState(StrEnum):
    """Whether Prefect's deployment was written from this version of the ingestion."""

    SYNCED = "synced"
    PENDING = "pending"  # the change is stored; its deployment is written next (or reconciled)


class IngestionOut(BaseModel):
    """An ingestion as the API answers it."""

    id: uuid.UUID
    name: str
    status: IngestionStatus
    version: int = Field(description="Goes up by one with every change; the ETag.")
    source: SourceSpec
    format: FormatSpec
    destination: DestinationSpec
    schedule: ScheduleSpec
    batch: BatchBounds
    work_queue: str | None
    cluster: str
    labels: dict[str, str] = Field(default_factory=dict)
    deployment_id: uuid.UUID | None
    deployment_state: DeploymentState = Field(
        description="pending: the change is stored and Prefect's deployment is not yet written "
        "from it (Prefect was unreachable); reconciliation writes it."
    )
    created_at: UtcTime
    updated_at: UtcTime
    created_by: str | None
    updated_by: str | None
    file_counts: dict[FileStatus, int] | None = Field(
        default=None, description="Files by status (on a single ingestion's read)."
    )


class IngestionColumns(Protocol):
    """The attributes of a stored row (an ORM object or a Core row) an Ingestion is read from."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    status: IngestionStatus
    version: int
    deployed_version: int | None
    prefect_deployment_id: uuid.UUID | None
    prefect_flow_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    created_by: str | None
    updated_by: str | None


class Ingestion(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: uuid.UUID
    tenant_id: uuid.UUID
    status: IngestionStatus
    version: int
    spec: IngestionSpec
    deployment_id: uuid.UUID | None = None
    flow_id: uuid.UUID | None = None
    deployed_version: int | None = None
    created_at: datetime
    updated_at: datetime
    created_by: str | None = None
    updated_by: str | None = None

    # -- what most readers want ---------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def format(self) -> FileFormat:
        return self.spec.format.type

    @property
    def reader_options(self) -> dict[str, str]:
        """The format's reader options as the strings Spark takes."""
        return validation.scalar_options(self.spec.format.options)

    @property
    def deployment_state(self) -> DeploymentState:
        synced = self.deployment_id is not None and self.deployed_version == self.version
        return DeploymentState.SYNCED if synced else DeploymentState.PENDING

    @property
    def paused(self) -> bool:
        return self.status is not IngestionStatus.ACTIVE

    # -- to and from the stored row -----------------------------------------------------------

    @classmethod
    def draft(cls, spec: IngestionSpec, tenant_id: uuid.UUID | None = None) -> Ingestion:
        """An ingestion that is not stored (a preview of a spec): no id or version."""
        now = datetime.now(UTC)
        nil = uuid.UUID(int=0)
        return cls(
            id=nil,
            tenant_id=tenant_id or nil,
            status=IngestionStatus.ACTIVE,
            version=0,
            spec=spec,
            created_at=now,
            updated_at=now,
        )

    @classmethod
    def of_row(cls, row: IngestionColumns | Any) -> Ingestion:
        return cls(
            id=row.id,
            tenant_id=row.tenant_id,
            status=row.status,
            version=row.version,
            spec=IngestionSpec.model_validate(
                spec_document(row), context={validation.STORED: True}
            ),
            deployment_id=row.prefect_deployment_id,
            flow_id=row.prefect_flow_id,
            deployed_version=row.deployed_version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            created_by=row.created_by,
            updated_by=row.updated_by,
        )

    def document(self, file_counts: dict[FileStatus, int] | None = None) -> IngestionOut:
        spec = self.spec
        return IngestionOut(
            id=self.id,
            name=spec.name,
            status=self.status,
            version=self.version,
            source=spec.source,
            format=spec.format,
            destination=spec.destination,
            schedule=spec.schedule,
            batch=spec.batch,
            work_queue=spec.work_queue,
            cluster=spec.cluster,
            labels=spec.labels,
            deployment_id=self.deployment_id,
            deployment_state=self.deployment_state,
            created_at=self.created_at,
            updated_at=self.updated_at,
            created_by=self.created_by,
            updated_by=self.updated_by,
            file_counts=file_counts,
        )

    def document_json(self, file_counts: dict[FileStatus, int] | None = None) -> str:
        return self.document(file_counts).model_dump_json()


def spec_columns(spec: IngestionSpec) -> dict[str, Any]:
    """The stored row's columns for a spec (all but status, which `paused` sets)."""
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
        "path_columns": list(spec.source.path_columns),
        "labels": dict(spec.labels),
        "after_load": spec.source.after_load,
        "archive_uri": spec.source.archive_uri,
        "retain_seconds": spec.source.retain_seconds,
        "format": spec.format.type,
        "format_options": options,
        "schema_ddl": spec.format.schema_ddl,
        "schema_hints": spec.format.schema_hints,
        "schema_evolution": spec.format.schema_evolution,
        "destination_catalog": spec.destination.catalog,
        "destination_namespace": spec.destination.namespace,
        "destination_table": spec.destination.table,
        "partitioning": spec.destination.partitioning,
        "table_properties": spec.destination.properties,
        "metadata_columns": spec.destination.metadata_columns.model_dump(),
        "write_mode": spec.destination.write_mode,
        "merge_keys": list(spec.destination.keys),
        "delete_when": spec.destination.delete_when,
        "schedule_cron": spec.schedule.cron,
        "schedule_timezone": spec.schedule.timezone,
        "max_files_per_batch": spec.batch.max_files,
        "max_bytes_per_batch": spec.batch.max_bytes,
        "max_file_bytes": spec.batch.max_file_bytes,
        "column_names": spec.format.column_names,
        "work_queue_override": spec.work_queue,
    }


_COLUMN_DEFAULTS: dict[str, Any] = {
    "cluster": "default",
    "source_glob": None,
    "credential_ref": None,
    "min_file_age_seconds": 0,
    "max_file_age_seconds": None,
    "start_date": None,
    "rewritten_file_policy": "ignore",
    "listing_mode": "full",
    "full_listing_every": 24,
    "path_columns": [],
    "labels": {},
    "after_load": "keep",
    "archive_uri": None,
    "retain_seconds": 0,
    "format_options": {},
    "schema_ddl": None,
    "schema_hints": None,
    "schema_evolution": "add_new_columns",
    "partitioning": [],
    "table_properties": {},
    "metadata_columns": None,
    "write_mode": "append",
    "merge_keys": [],
    "delete_when": None,
    "schedule_cron": None,
    "schedule_timezone": "UTC",
    "max_files_per_batch": 1000,
    "max_bytes_per_batch": 10 * 1024**3,
    "max_file_bytes": None,
    "column_names": "keep",
    "work_queue_override": None,
    "status": IngestionStatus.ACTIVE,
}


def spec_of_columns(**columns: Any) -> IngestionSpec:
    """A spec from stored-column values (the rest as the row's defaults), validated: for
    tools and tests that describe an ingestion by its columns."""
    values = {**_COLUMN_DEFAULTS, **columns}
    return IngestionSpec.model_validate(spec_document(SimpleNamespace(**values)))


def as_stored(spec: IngestionSpec) -> IngestionSpec:
    """The spec as storing it and reading it back gives it (reader options as text, …): what
    the API would answer for it, which a client compares with a stored ingestion's."""
    status = IngestionStatus.PAUSED if spec.paused else IngestionStatus.ACTIVE
    return spec_of_columns(**spec_columns(spec), status=status)


def spec_document(row: Any) -> dict[str, Any]:
    """The nested form of a stored row's spec (what IngestionSpec validates)."""
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
            "path_columns": list(row.path_columns or []),
            "after_load": row.after_load,
            "archive_uri": row.archive_uri,
            "retain_seconds": row.retain_seconds,
        },
        "format": {
            "type": row.format,
            "options": options,
            "schema_ddl": row.schema_ddl,
            "schema_hints": row.schema_hints,
            "schema_evolution": row.schema_evolution,
            "corrupt_records": CorruptRecords(corrupt),
            "column_names": row.column_names,
        },
        "destination": {
            "catalog": row.destination_catalog,
            "namespace": row.destination_namespace,
            "table": row.destination_table,
            "partitioning": list(row.partitioning or []),
            "properties": dict(row.table_properties or {}),
            "metadata_columns": row.metadata_columns or {},
            "write_mode": row.write_mode,
            "keys": list(row.merge_keys or []),
            "delete_when": row.delete_when,
        },
        "schedule": {"cron": row.schedule_cron, "timezone": row.schedule_timezone},
        "batch": {
            "max_files": row.max_files_per_batch,
            "max_bytes": row.max_bytes_per_batch,
            "max_file_bytes": row.max_file_bytes,
        },
        "work_queue": row.work_queue_override,
        "cluster": row.cluster,
        "paused": row.status is IngestionStatus.PAUSED,
        "labels": dict(row.labels or {}),
    }
