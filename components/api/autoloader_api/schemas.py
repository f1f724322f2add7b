"""Request and response bodies of the API. Requests refuse unknown fields; responses are typed,
lists come as {items, pagination}, and times are UTC ISO 8601."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from autoloader_metadata.enums import (
    AfterLoad,
    ApiScope,
    ColumnNames,
    FileFormat,
    FileStatus,
    ListingMode,
    RewrittenFilePolicy,
    SchemaEvolution,
    WriteMode,
)
from autoloader_metadata.failures import ErrorCategory
from autoloader_model import validation
from autoloader_model.ingestion import IngestionOut
from autoloader_model.spec import (
    NO_NUL,
    ClusterName,
    DestinationSpec,
    FormatSpec,
    IngestionSpec,
    Name,
    OptionValue,
    QueueName,
    ScheduleSpec,
    SourceSpec,
    Strict,
    UtcTime,
)
from pydantic import AfterValidator, AwareDatetime, BaseModel, Field

from autoloader_spark.options import CorruptRecords

T = TypeVar("T")
# Re-exported for the routes: an ingestion's create body is its spec, its answer the document.
__all__ = ["IngestionOut", "IngestionSpec", "NO_NUL", "ScheduleSpec"]


# -- ingestions ------------------------------------------------------------------------------


class SourcePatch(Strict):
    uri: str | None = None
    glob: str | None = None
    credential_ref: str | None = None
    min_file_age_seconds: int | None = None
    max_file_age_seconds: int | None = None
    start_date: datetime | None = None
    rewritten_files: RewrittenFilePolicy | None = None
    listing_mode: ListingMode | None = None
    full_listing_every: int | None = None
    path_columns: list[str] | None = None
    after_load: AfterLoad | None = None
    archive_uri: str | None = None
    retain_seconds: int | None = None


class FormatPatch(Strict):
    type: FileFormat | None = None
    options: dict[str, OptionValue] | None = None
    schema_ddl: str | None = None
    schema_hints: str | None = None
    schema_evolution: SchemaEvolution | None = None
    corrupt_records: CorruptRecords | None = None
    column_names: ColumnNames | None = None


class DestinationPatch(Strict):
    catalog: str | None = None
    namespace: str | None = None
    table: str | None = None
    partitioning: list[str] | None = None
    properties: dict[str, str] | None = None
    write_mode: WriteMode | None = None
    keys: list[str] | None = None
    delete_when: str | None = None
    metadata_columns: dict[str, str | None] | None = Field(
        default=None, description="Merged into the current choice: {ingested_at: null} drops one."
    )


class BatchPatch(Strict):
    max_files: int | None = None
    max_bytes: int | None = None
    max_file_bytes: int | None = None


class IngestionPatch(Strict):
    """Only the fields given change; the result is checked as a whole, like a create."""

    name: str | None = None
    source: SourcePatch | None = None
    format: FormatPatch | None = None
    destination: DestinationPatch | None = None
    schedule: ScheduleSpec | None = None
    batch: BatchPatch | None = None
    work_queue: str | None = None
    cluster: str | None = None
    labels: dict[str, str] | None = None


class IngestionCheck(BaseModel):
    """A create body as the API reads it, and what applying it would be."""

    id: uuid.UUID | None = Field(description="The tenant's ingestion of that name, if any.")
    action: Literal["create", "change"]
    spec: IngestionSpec = Field(
        description="The body as the ingestion would be stored and read back: every default "
        "filled in, reader options as text."
    )


class WorkQueueChange(Strict):
    work_queue: QueueName | None = Field(description="A queue name, or null to route by backlog.")


class Pagination(BaseModel):
    limit: int
    offset: int
    total: int | None = Field(description="Items matching in all pages (null when not counted).")


class Page(BaseModel, Generic[T]):
    items: list[T]
    pagination: Pagination


# -- runs ------------------------------------------------------------------------------------


class FileFailure(BaseModel):
    path: str
    category: ErrorCategory | None = Field(
        default=None, description="malformed, schema_mismatch, unsupported, permission, ..."
    )
    error: str


class RunOut(BaseModel):
    id: uuid.UUID
    ingestion_id: uuid.UUID
    name: str
    state: str = Field(description="SCHEDULED, PENDING, RUNNING, COMPLETED, FAILED, CRASHED, ...")
    state_name: str | None = Field(description="e.g. 'Completed with failures'.")
    message: str | None
    trigger: str | None = Field(description="manual, retry, scheduled, ...")
    work_queue: str | None
    expected_start_time: UtcTime | None
    start_time: UtcTime | None
    end_time: UtcTime | None
    duration_seconds: float | None
    files_loaded: int = Field(description="From the ledger: files in batches this run loaded.")
    rows: int
    bytes: int
    files_failed: int | None = Field(default=None, description="From the run's summary.")
    failures: list[FileFailure] | None = None
    failures_by_category: dict[str, int] | None = Field(
        default=None, description="From the run's summary: every file that failed, by category."
    )
    files_cleaned: int | None = Field(
        default=None, description="From the run's summary: files source.after_load removed."
    )
    cleanup_failures: int | None = Field(
        default=None,
        description="From the run's summary: cleanups that failed (recorded on each file as "
        "cleanup_error, retried by the next run).",
    )
    prefect_url: str | None = Field(
        default=None, description="The run's page in Prefect's UI (when its address is set)."
    )


class RunAccepted(BaseModel):
    run_id: uuid.UUID
    state: str
    work_queue: str | None


class LogOut(BaseModel):
    timestamp: UtcTime
    level: int
    message: str


# -- files -----------------------------------------------------------------------------------


class FileOut(BaseModel):
    id: int
    path: str
    size: int
    etag: str | None
    modified_at: UtcTime
    status: FileStatus
    attempts: int
    last_error: str | None
    error_category: ErrorCategory | None = Field(
        description="Why the file last failed: malformed, schema_mismatch, unsupported, "
        "permission, not_found, too_large or transient."
    )
    rows_loaded: int | None
    batch_id: uuid.UUID | None
    first_seen_at: UtcTime
    loaded_at: UtcTime | None
    cleaned_at: UtcTime | None = Field(
        default=None, description="When source.after_load deleted or moved the file."
    )
    cleaned_to: str | None = Field(default=None, description="Where after_load: move put it.")
    cleanup_error: str | None = Field(
        default=None, description="Why the last cleanup failed; the next run retries it."
    )


class SchemaColumn(BaseModel):
    name: str
    type: str = Field(examples=["bigint", "struct<`x`:double>"])


class SchemaChange(BaseModel):
    added_columns: list[str] = Field(
        default_factory=list, description="New columns (a struct's field as struct.field)."
    )
    widened_columns: dict[str, str] = Field(
        default_factory=dict, examples=[{"quantity": "int -> bigint"}]
    )


class SchemaVersionOut(BaseModel):
    version: int
    columns: list[SchemaColumn]
    change: SchemaChange = Field(description="What changed from the version before.")
    trigger: str = Field(examples=["first batch", "new columns", "widened types"])
    resolution: str = Field(description="created, or the evolution mode that applied.")
    batch_id: uuid.UUID | None = Field(description="The batch that brought the change.")
    files: list[str] = Field(
        description="The files of that batch (at most 20): one of them caused the change."
    )
    created_at: UtcTime


ReprocessableStatus = Literal["failed", "loaded", "skipped", "discovered"]


def _only_failed() -> list[ReprocessableStatus]:
    return ["failed"]


class ReprocessRequest(Strict):
    file_ids: list[Annotated[int, Field(ge=1, le=2**62)]] | None = Field(
        default=None, max_length=10_000
    )
    statuses: list[ReprocessableStatus] = Field(default_factory=_only_failed, min_length=1)
    path: Annotated[str | None, Field(max_length=1024, pattern=NO_NUL)] = Field(
        default=None, description="Glob on the file's path (* and ?)."
    )
    modified_after: AwareDatetime | None = None
    modified_before: AwareDatetime | None = None
    dry_run: bool = False


class ReprocessOut(BaseModel):
    files: int = Field(description="Files sent back to discovery (or that would be).")
    dry_run: bool


class RefreshRequestBody(Strict):
    dry_run: bool = False
    confirm: bool = Field(default=False, description="Must be true unless dry_run.")


class RefreshOut(BaseModel):
    mode: Literal["full", "new_only"]
    dry_run: bool
    files: int = Field(description="Files loaded again (full), or no longer awaited (new_only).")
    rows: int = Field(description="Rows deleted from the table first (full).")
    claimed_files: int = Field(description="Files in a running batch, left to that run.")
    run_id: uuid.UUID | None = Field(default=None, description="The run that does a full refresh.")


# -- previews --------------------------------------------------------------------------------


class PreviewOptions(Strict):
    max_files: int = Field(default=10, ge=1, le=50)
    limit: int = Field(default=20, ge=1, le=200)


class PreviewSpec(Strict):
    source: SourceSpec
    format: FormatSpec
    destination: DestinationSpec
    cluster: ClusterName = "default"
    max_files: int = Field(default=10, ge=1, le=50)
    limit: int = Field(default=20, ge=1, le=200)


class PreviewColumn(BaseModel):
    name: str
    type: str


class PreviewOut(BaseModel):
    run_id: uuid.UUID
    status: Literal["running", "completed"]
    columns: list[PreviewColumn] | None = None
    table_exists: bool | None = None
    schema_diff: dict[str, Any] | None = None
    rows: list[dict[str, Any]] | None = None
    matching_files: int | None = None
    sampled_files: list[str] | None = None
    seconds: float | None = None
    warnings: list[str] | None = Field(
        default=None,
        description="What would go wrong later though the sample loads: e.g. a credential "
        "that cannot delete or move files, which source.after_load needs.",
    )


# -- clusters, tenants, keys -----------------------------------------------------------------


class ClusterOut(BaseModel):
    name: str
    endpoint: str = Field(description="host:port of the Spark Connect server (no token).")


class ClusterTest(BaseModel):
    name: str
    reachable: bool
    seconds: float
    error: str | None


class TenantCreate(Strict):
    name: Name


class TenantOut(BaseModel):
    id: uuid.UUID
    name: str
    created_at: UtcTime


class ApiKeyCreate(Strict):
    tenant_id: uuid.UUID
    name: Annotated[str, Field(min_length=1, max_length=128, pattern=NO_NUL)]
    scopes: list[ApiScope] = Field(min_length=1, max_length=3)


class ApiKeyOut(BaseModel):
    id: uuid.UUID
    tenant_id: uuid.UUID
    name: str
    prefix: str
    scopes: list[ApiScope]
    created_at: UtcTime
    revoked_at: UtcTime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The key itself: shown once, stored only as a hash.")


CredentialRef = Annotated[
    str,
    Field(max_length=256, examples=["env:ACME_S3"]),
    AfterValidator(validation.credential_ref),
]


class CredentialGrantCreate(Strict):
    credential_ref: CredentialRef = Field(
        description="A reference the tenant's ingestions may then name: default (the workers' "
        "own identity), env:NAME or file:/path. anonymous needs no grant."
    )


class CredentialGrantOut(BaseModel):
    tenant_id: uuid.UUID
    credential_ref: str
    granted_by: str | None
    granted_at: UtcTime


class TableBody(Strict):
    """A destination table, as ingestions name it (compared without regard to case)."""

    catalog: Annotated[str, AfterValidator(validation.identifier)]
    namespace: Annotated[str, Field(max_length=256), AfterValidator(validation.namespace)]
    table: Annotated[str, AfterValidator(validation.identifier)]


class TableOwnerOut(BaseModel):
    catalog: str
    namespace: str
    table: str = Field(validation_alias="table_name")
    tenant_id: uuid.UUID
    claimed_by: str | None
    claimed_at: UtcTime


class TableShareOut(BaseModel):
    catalog: str
    namespace: str
    table: str
    tenant_id: uuid.UUID


# -- operations ------------------------------------------------------------------------------


class Health(BaseModel):
    status: str
    version: str


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    database: str
    prefect: str


class ErrorOut(BaseModel):
    detail: str | list[dict[str, Any]]
