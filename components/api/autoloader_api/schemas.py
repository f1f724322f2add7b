"""Request and response bodies of the API. Requests refuse unknown fields; responses are typed,
lists come as {items, pagination}, and times are UTC ISO 8601."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from autoloader_metadata.enums import (
    ApiScope,
    FileFormat,
    FileStatus,
    IngestionStatus,
    ListingMode,
    RewrittenFilePolicy,
    SchemaEvolution,
)
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    model_validator,
)

from autoloader_api import validation
from autoloader_spark.options import OPTIONS, CorruptRecords

T = TypeVar("T")
GiB = 1024**3
# PostgreSQL stores no NUL character in text: refused as a field error, not a failed INSERT.
NO_NUL = r"^[^\x00]*$"
OptionValue = Annotated[str, Field(max_length=1024, pattern=NO_NUL)] | bool | int | float
UtcTime = Annotated[datetime, PlainSerializer(lambda t: _utc(t).isoformat())]


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- ingestions ------------------------------------------------------------------------------


class SourceSpec(Strict):
    uri: Annotated[
        str, Field(max_length=2048, pattern=NO_NUL), AfterValidator(validation.source_uri)
    ] = Field(examples=["s3://landing/orders/"])
    glob: Annotated[str | None, AfterValidator(validation.glob)] = Field(
        default=None, description="Files to take, relative to the source (`**/*.csv`)."
    )
    credential_ref: Annotated[str | None, AfterValidator(validation.credential_ref)] = Field(
        default=None,
        description="Where the credentials are: default, anonymous, env:NAME, file:/path. "
        "Never the secret itself.",
    )
    min_file_age_seconds: int = Field(default=0, ge=0, le=31_536_000)
    max_file_age_seconds: int | None = Field(default=None, ge=1, le=3_153_600_000)
    start_date: AwareDatetime | None = Field(
        default=None, description="Files modified before this are never loaded."
    )
    rewritten_files: RewrittenFilePolicy = RewrittenFilePolicy.IGNORE
    listing_mode: ListingMode = ListingMode.FULL
    full_listing_every: int = Field(default=24, ge=1, le=10_000)


class FormatSpec(Strict):
    type: FileFormat
    options: dict[Annotated[str, Field(max_length=64)], OptionValue] = Field(
        default_factory=dict, max_length=32, description="Reader options the format takes."
    )
    schema_ddl: Annotated[
        str | None, Field(max_length=65_536), AfterValidator(validation.schema_ddl)
    ] = Field(default=None, examples=["id BIGINT, name STRING, amount DECIMAL(10,2)"])
    schema_evolution: SchemaEvolution = SchemaEvolution.ADD_NEW_COLUMNS
    corrupt_records: CorruptRecords = CorruptRecords.KEEP

    @model_validator(mode="after")
    def options_of_the_format(self) -> FormatSpec:
        unknown = sorted(set(self.options) - set(OPTIONS[self.type.value]))
        if unknown:
            raise ValueError(
                f"format.options: {self.type.value} does not take {', '.join(unknown)}; it takes "
                f"{', '.join(OPTIONS[self.type.value])}"
            )
        return self


class DestinationSpec(Strict):
    catalog: Annotated[str, AfterValidator(validation.identifier)]
    namespace: Annotated[str, Field(max_length=256), AfterValidator(validation.namespace)]
    table: Annotated[str, AfterValidator(validation.identifier)]
    partitioning: Annotated[
        list[Annotated[str, Field(max_length=160)]], AfterValidator(validation.partitioning)
    ] = Field(default_factory=list, max_length=8, examples=[["days(event_time)", "region"]])
    properties: Annotated[
        dict[str, Annotated[str, Field(max_length=1024, pattern=NO_NUL)]],
        AfterValidator(validation.table_properties),
    ] = Field(default_factory=dict, max_length=64)


class ScheduleSpec(Strict):
    cron: Annotated[str | None, Field(max_length=128), AfterValidator(validation.cron)] = Field(
        default=None, examples=["*/15 * * * *"], description="None: runs only when triggered."
    )
    timezone: Annotated[str, Field(max_length=64), AfterValidator(validation.timezone)] = "UTC"


class BatchBounds(Strict):
    max_files: int = Field(default=1000, ge=1, le=100_000)
    max_bytes: int = Field(default=10 * GiB, ge=1, le=2**50)


Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$", examples=["orders"])]
QueueName = Annotated[str, Field(max_length=64)]
ClusterName = Annotated[str, Field(min_length=1, max_length=128)]


class IngestionCreate(Strict):
    name: Name
    source: SourceSpec
    format: FormatSpec
    destination: DestinationSpec
    schedule: ScheduleSpec = Field(default_factory=ScheduleSpec)
    batch: BatchBounds = Field(default_factory=BatchBounds)
    work_queue: QueueName | None = Field(
        default=None, description="Always run on this queue (else routed by backlog)."
    )
    cluster: ClusterName = "default"
    paused: bool = False


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


class FormatPatch(Strict):
    type: FileFormat | None = None
    options: dict[str, OptionValue] | None = None
    schema_ddl: str | None = None
    schema_evolution: SchemaEvolution | None = None
    corrupt_records: CorruptRecords | None = None


class DestinationPatch(Strict):
    catalog: str | None = None
    namespace: str | None = None
    table: str | None = None
    partitioning: list[str] | None = None
    properties: dict[str, str] | None = None


class BatchPatch(Strict):
    max_files: int | None = None
    max_bytes: int | None = None


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


class WorkQueueChange(Strict):
    work_queue: QueueName | None = Field(description="A queue name, or null to route by backlog.")


class IngestionOut(BaseModel):
    id: uuid.UUID
    name: str
    status: IngestionStatus
    source: SourceSpec
    format: FormatSpec
    destination: DestinationSpec
    schedule: ScheduleSpec
    batch: BatchBounds
    work_queue: str | None
    cluster: str
    deployment_id: uuid.UUID | None
    created_at: UtcTime
    updated_at: UtcTime
    created_by: str | None
    updated_by: str | None
    file_counts: dict[FileStatus, int] | None = Field(
        default=None, description="Files by status (on a single ingestion's read)."
    )


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
    rows_loaded: int | None
    batch_id: uuid.UUID | None
    first_seen_at: UtcTime
    loaded_at: UtcTime | None


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
