"""An ingestion as its user describes it: source, format, destination, schedule and bounds.

The one definition of these fields: the API takes it as a create body and answers it inside an
ingestion, the store keeps it as columns, and orchestration, discovery and loading read it.
Fields refuse unknown keys; each check names its field.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from autoloader_metadata.enums import (
    AfterLoad,
    ColumnNames,
    FileFormat,
    ListingMode,
    RewrittenFilePolicy,
    SchemaEvolution,
    WriteMode,
)
from autoloader_model import validation
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    model_validator,
)

from autoloader_spark.lineage import MetadataColumns
from autoloader_spark.options import OPTIONS, CorruptRecords

GiB = 1024**3
# PostgreSQL stores no NUL character in text: refused as a field error, not a failed INSERT.
NO_NUL = r"^[^\x00]*$"
OptionValue = Annotated[str, Field(max_length=1024, pattern=NO_NUL)] | bool | int | float
UtcTime = Annotated[datetime, PlainSerializer(lambda t: utc(t).isoformat())]


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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
    rewritten_files: RewrittenFilePolicy = Field(
        default=RewrittenFilePolicy.IGNORE,
        description="When an object's ETag or size changes: ignore it; reload (append again: "
        "the earlier rows stay, duplicates); replace (one commit deletes the rows its earlier "
        "versions loaded and adds the new version's).",
    )
    listing_mode: ListingMode = ListingMode.FULL
    full_listing_every: int = Field(default=24, ge=1, le=10_000)
    path_columns: Annotated[
        list[Annotated[str, Field(max_length=128)]], AfterValidator(validation.path_columns)
    ] = Field(
        default_factory=list,
        max_length=16,
        examples=[["year", "month"]],
        description="Hive-style folders (`year=2026/month=11/`) to load as columns: typed by "
        "format.schema_hints, else bigint, date or string as the values are. A file whose path "
        "lacks one gets null there, and the run warns.",
    )
    after_load: AfterLoad = Field(
        default=AfterLoad.KEEP,
        examples=["move"],
        description="What becomes of a file once its rows are committed and marked loaded, "
        "after retain_seconds: keep it; delete it; or move it under archive_uri (same path "
        "below it). Needs write permission on the source (a preview checks it); a failure is "
        "recorded on the file and retried by the next run, and never fails or repeats a load.",
    )
    archive_uri: Annotated[
        str | None, Field(max_length=2048, pattern=NO_NUL), AfterValidator(validation.archive_uri)
    ] = Field(
        default=None,
        examples=["s3://landing/archive/orders/"],
        description="Where after_load: move puts files: the source's store, outside the source "
        "or in a hidden folder of it (`_archive/`), which listings skip.",
    )
    retain_seconds: int = Field(
        default=0,
        ge=0,
        le=31_536_000,
        examples=[86400],
        description="How long a loaded file stays in the source before it is deleted or moved.",
    )

    @model_validator(mode="after")
    def archive_for_move(self) -> SourceSpec:
        moving = self.after_load is AfterLoad.MOVE
        if moving and self.archive_uri is None:
            raise ValueError("source.archive_uri: after_load move needs an archive_uri")
        if not moving and self.archive_uri is not None:
            raise ValueError("source.archive_uri: only after_load move takes an archive_uri")
        if self.archive_uri is not None:
            validation.archive_beside(self.uri, self.archive_uri)
        return self


class FormatSpec(Strict):
    type: FileFormat
    options: dict[Annotated[str, Field(max_length=64)], OptionValue] = Field(
        default_factory=dict, max_length=32, description="Reader options the format takes."
    )
    schema_ddl: Annotated[
        str | None,
        Field(max_length=65_536),
        AfterValidator(validation.unless_stored(validation.schema_ddl)),
    ] = Field(default=None, examples=["id BIGINT, name STRING, amount DECIMAL(10,2)"])
    schema_hints: Annotated[
        str | None,
        Field(max_length=65_536),
        AfterValidator(validation.unless_stored(validation.schema_ddl)),
    ] = Field(
        default=None,
        examples=["amount DECIMAL(12,2), event_time TIMESTAMP"],
        description="Types for some columns; the others are inferred. A hint for a column the "
        "files lack fails a preview, and is reported by the run that meets it.",
    )
    schema_evolution: SchemaEvolution = SchemaEvolution.ADD_NEW_COLUMNS
    corrupt_records: CorruptRecords = CorruptRecords.KEEP
    column_names: ColumnNames = Field(
        default=ColumnNames.KEEP,
        description="keep: columns are named as the files name them (`order id`); snake_case: "
        "top-level names become order_id, for engines that dislike such names.",
    )

    @model_validator(mode="after")
    def hints_without_schema(self) -> FormatSpec:
        if self.schema_hints is not None and self.schema_ddl is not None:
            raise ValueError(
                "format.schema_hints: give schema_ddl (every column) or schema_hints (some), "
                "not both"
            )
        return self

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
        list[Annotated[str, Field(max_length=160)]],
        AfterValidator(validation.unless_stored(validation.partitioning)),
    ] = Field(default_factory=list, max_length=8, examples=[["days(event_time)", "region"]])
    properties: Annotated[
        dict[str, Annotated[str, Field(max_length=1024, pattern=NO_NUL)]],
        AfterValidator(validation.unless_stored(validation.table_properties)),
    ] = Field(default_factory=dict, max_length=64)
    write_mode: WriteMode = Field(
        default=WriteMode.APPEND,
        description="append: every batch's rows are added. merge: each batch is upserted by "
        "`keys` (MERGE INTO); of a key's rows in one batch the last file by modification time "
        "wins, then the file's last row.",
    )
    keys: list[Annotated[str, Field(min_length=1, max_length=128, pattern=NO_NUL)]] = Field(
        default_factory=list, max_length=16, examples=[["order_id"]]
    )
    delete_when: Annotated[
        str | None, Field(max_length=1100), AfterValidator(validation.delete_when)
    ] = Field(
        default=None,
        examples=["deleted = true"],
        description="With merge: a row meeting this deletes its key's row (a soft-delete "
        "marker); `<column> = <true|false|integer|'text'>`.",
    )
    metadata_columns: MetadataColumns = Field(
        default_factory=MetadataColumns,
        examples=[{"source_file": "_source_file", "batch_id": "_batch_id", "ingested_at": None}],
        description="The lineage columns each row gets, by name; null leaves one out. A full "
        "refresh needs batch_id; rows per file in a batch of many files need source_file and "
        "batch_id (else only the batch's rows are counted).",
    )

    @model_validator(mode="after")
    def merge_has_keys(self) -> DestinationSpec:
        merging = self.write_mode is WriteMode.MERGE
        if merging and not self.keys:
            raise ValueError("destination.keys: write_mode merge upserts by keys; name them")
        if not merging and (self.keys or self.delete_when):
            raise ValueError("destination.keys and delete_when apply to write_mode merge only")
        lineage = self.metadata_columns
        if merging and (not lineage.counts_rows_per_file or lineage.source_modified_at is None):
            raise ValueError(
                "destination.metadata_columns: merge orders a key's rows by source_modified_at "
                "and source_file, and finds its commit by batch_id; keep all three"
            )
        folded = [k.casefold() for k in self.keys]
        if len(set(folded)) != len(folded):
            raise ValueError("destination.keys: a key is named twice")
        return self


class ScheduleSpec(Strict):
    cron: Annotated[
        str | None, Field(max_length=128), AfterValidator(validation.unless_stored(validation.cron))
    ] = Field(
        default=None, examples=["*/15 * * * *"], description="None: runs only when triggered."
    )
    timezone: Annotated[
        str, Field(max_length=64), AfterValidator(validation.unless_stored(validation.timezone))
    ] = "UTC"


class BatchBounds(Strict):
    max_files: int = Field(default=1000, ge=1, le=100_000)
    max_bytes: int = Field(default=10 * GiB, ge=1, le=2**50)
    max_file_bytes: int | None = Field(
        default=None,
        ge=1,
        le=2**50,
        description="A file larger than this fails as too_large before Spark reads it "
        "(None: no limit).",
    )


Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$", examples=["orders"])]
QueueName = Annotated[str, Field(max_length=64)]
ClusterName = Annotated[str, Field(min_length=1, max_length=128)]


_LABEL_KEY = r"^[A-Za-z0-9]([A-Za-z0-9._/-]*[A-Za-z0-9])?$"
LabelKey = Annotated[str, StringConstraints(min_length=1, max_length=63, pattern=_LABEL_KEY)]
LabelValue = Annotated[str, StringConstraints(max_length=256, pattern=NO_NUL)]


class IngestionSpec(Strict):
    """What a user describes once: the create body, and what a stored ingestion reads back as."""

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
    labels: dict[LabelKey, LabelValue] = Field(
        default_factory=dict,
        max_length=32,
        examples=[{"team": "sales", "autoloader.dev/apply-set": "specs"}],
        description="key: value pairs of your choosing, replaced whole by a change. The CLI "
        "marks the ingestions a set of spec files manages with autoloader.dev/apply-set.",
    )

    @model_validator(mode="after")
    def merge_does_not_replace(self) -> IngestionSpec:
        if (
            self.destination.write_mode is WriteMode.MERGE
            and self.source.rewritten_files is RewrittenFilePolicy.REPLACE
        ):
            raise ValueError(
                "source.rewritten_files: a merge ingestion upserts a rewritten file's rows by "
                "key; use reload with write_mode merge, not replace"
            )
        return self

    @model_validator(mode="after")
    def replace_has_its_lineage(self) -> IngestionSpec:
        lineage = self.destination.metadata_columns
        replacing = self.source.rewritten_files is RewrittenFilePolicy.REPLACE
        if replacing and not lineage.counts_rows_per_file:
            raise ValueError(
                "source.rewritten_files: replace finds a file's earlier rows by the source_file "
                "and batch_id lineage columns; keep both in destination.metadata_columns"
            )
        return self

    @model_validator(mode="after")
    def path_columns_clear_of_lineage(self) -> IngestionSpec:
        lineage = {n.casefold() for n in self.destination.metadata_columns.names()}
        taken = [c for c in self.source.path_columns if c.casefold() in lineage]
        if taken:
            raise ValueError(
                f"source.path_columns: {', '.join(taken)} is also a lineage column's name "
                "(destination.metadata_columns)"
            )
        return self


WHOLE = ("options", "properties", "labels")  # objects a change replaces whole


def merged(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """`current` with `patch` laid over it; nested objects merge, other values replace (a
    format's options, the table properties and the labels are replaced whole)."""
    result = dict(current)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict) and key not in WHOLE:
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result
