"""SQLAlchemy models of the metadata store. Alembic migrations must match them (a test checks)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from autoloader_metadata.enums import (
    AfterLoad,
    BatchStatus,
    ColumnNames,
    FileFormat,
    FileStatus,
    IngestionStatus,
    ListingMode,
    RewrittenFilePolicy,
    SchemaEvolution,
    WriteMode,
)
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTime(timezone=True), dict[str, Any]: JSONB}


def enum_column(enum: type[StrEnum], name: str) -> Enum:
    """An enum stored as its string value in a VARCHAR with a CHECK (easy to extend later)."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        length=32,
        create_constraint=True,
        values_callable=lambda members: [member.value for member in members],
    )


def now_column() -> Mapped[datetime]:
    return mapped_column(server_default=func.now())


class Tenant(Base):
    __tablename__ = "tenants"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = now_column()


class ApiKey(Base):
    """An API key; only its SHA-256 is stored, with a visible prefix to find and show it."""

    __tablename__ = "api_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(128))
    prefix: Mapped[str] = mapped_column(String(32), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    created_at: Mapped[datetime] = now_column()
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class CredentialGrant(Base):
    """A credential reference (`env:NAME`, `file:/path`, `default`) a tenant's ingestions may
    use. Where grants are required, an ingestion cannot name a credential its tenant was not
    granted, so one tenant cannot read with another's keys."""

    __tablename__ = "credential_grants"

    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    credential_ref: Mapped[str] = mapped_column(String(256), primary_key=True)
    granted_by: Mapped[str | None] = mapped_column(String(128))
    granted_at: Mapped[datetime] = now_column()


class TableOwner(Base):
    """The tenant a destination table belongs to: the one whose ingestion named it first (on
    create, before Spark ever writes), or the one an admin adopted it for. Names are stored as
    Spark compares them, in lower case."""

    __tablename__ = "table_owners"

    catalog: Mapped[str] = mapped_column(String(128), primary_key=True)
    namespace: Mapped[str] = mapped_column(String(256), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    claimed_by: Mapped[str | None] = mapped_column(String(128))
    claimed_at: Mapped[datetime] = now_column()


class TableShare(Base):
    """Another tenant an admin let write to (and preview) a table it does not own."""

    __tablename__ = "table_shares"
    __table_args__ = (
        ForeignKeyConstraint(
            ["catalog", "namespace", "table_name"],
            ["table_owners.catalog", "table_owners.namespace", "table_owners.table_name"],
            ondelete="CASCADE",
        ),
    )

    catalog: Mapped[str] = mapped_column(String(128), primary_key=True)
    namespace: Mapped[str] = mapped_column(String(256), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(128), primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("tenants.id", ondelete="CASCADE"), primary_key=True
    )
    shared_by: Mapped[str | None] = mapped_column(String(128))
    shared_at: Mapped[datetime] = now_column()


class Ingestion(Base):
    __tablename__ = "ingestions"
    # created_at/updated_at come back with the INSERT or UPDATE (RETURNING), not a later SELECT.
    __mapper_args__ = {"eager_defaults": True}
    __table_args__ = (
        # A name is unique per tenant among the ingestions not deleted.
        Index(
            "uq_ingestions_tenant_id_name_live",
            "tenant_id",
            "name",
            unique=True,
            postgresql_where=text("status <> 'deleted'"),
        ),
        CheckConstraint("max_files_per_batch > 0", name="max_files_positive"),
        CheckConstraint("max_bytes_per_batch > 0", name="max_bytes_positive"),
        CheckConstraint("min_file_age_seconds >= 0", name="min_age_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    tenant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    status: Mapped[IngestionStatus] = mapped_column(
        enum_column(IngestionStatus, "ingestion_status"), default=IngestionStatus.ACTIVE
    )
    cluster: Mapped[str] = mapped_column(String(128), default="default")
    # Source
    source_uri: Mapped[str] = mapped_column(Text)
    source_glob: Mapped[str | None] = mapped_column(Text)
    credential_ref: Mapped[str | None] = mapped_column(String(256))
    min_file_age_seconds: Mapped[int] = mapped_column(Integer, default=0)
    max_file_age_seconds: Mapped[int | None] = mapped_column(Integer)
    start_date: Mapped[datetime | None]
    rewritten_file_policy: Mapped[RewrittenFilePolicy] = mapped_column(
        enum_column(RewrittenFilePolicy, "rewritten_file_policy"),
        default=RewrittenFilePolicy.IGNORE,
    )
    listing_mode: Mapped[ListingMode] = mapped_column(
        enum_column(ListingMode, "listing_mode"),
        default=ListingMode.FULL,
        server_default=ListingMode.FULL.value,
    )
    # In START_AFTER mode, every Nth discovery lists the whole source to catch late keys.
    full_listing_every: Mapped[int] = mapped_column(Integer, default=24, server_default="24")
    path_columns: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    labels: Mapped[dict[str, str]] = mapped_column(JSONB, default=dict, server_default="{}")
    after_load: Mapped[AfterLoad] = mapped_column(
        enum_column(AfterLoad, "after_load"),
        default=AfterLoad.KEEP,
        server_default=AfterLoad.KEEP.value,
    )
    archive_uri: Mapped[str | None] = mapped_column(Text)
    retain_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Format and schema
    format: Mapped[FileFormat] = mapped_column(enum_column(FileFormat, "file_format"))
    format_options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    schema_ddl: Mapped[str | None] = mapped_column(Text)
    schema_hints: Mapped[str | None] = mapped_column(Text)
    schema_evolution: Mapped[SchemaEvolution] = mapped_column(
        enum_column(SchemaEvolution, "schema_evolution"), default=SchemaEvolution.ADD_NEW_COLUMNS
    )
    # Destination
    destination_catalog: Mapped[str] = mapped_column(String(128))
    destination_namespace: Mapped[str] = mapped_column(String(256))
    destination_table: Mapped[str] = mapped_column(String(128))
    partitioning: Mapped[list[str]] = mapped_column(JSONB, default=list)
    table_properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Lineage columns by name (null: not written); NULL in the column: the defaults.
    metadata_columns: Mapped[dict[str, Any] | None]
    write_mode: Mapped[WriteMode] = mapped_column(
        enum_column(WriteMode, "write_mode"),
        default=WriteMode.APPEND,
        server_default=WriteMode.APPEND.value,
    )
    merge_keys: Mapped[list[str]] = mapped_column(JSONB, default=list, server_default="[]")
    delete_when: Mapped[str | None] = mapped_column(Text)
    # Schedule and execution
    schedule_cron: Mapped[str | None] = mapped_column(String(128))
    schedule_timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    max_files_per_batch: Mapped[int] = mapped_column(Integer, default=1000)
    max_bytes_per_batch: Mapped[int] = mapped_column(BigInteger, default=10 * 1024**3)
    max_file_bytes: Mapped[int | None] = mapped_column(BigInteger)
    column_names: Mapped[ColumnNames] = mapped_column(
        enum_column(ColumnNames, "column_names"),
        default=ColumnNames.KEEP,
        server_default=ColumnNames.KEEP.value,
    )
    work_queue_override: Mapped[str | None] = mapped_column(String(64))
    prefect_deployment_id: Mapped[uuid.UUID | None]
    prefect_flow_id: Mapped[uuid.UUID | None]
    # Every change bumps version (a compare-and-set: the API's ETag); deployed_version is the
    # version Prefect's deployment was last written from (behind: the deployment is pending).
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    deployed_version: Mapped[int | None] = mapped_column(Integer)
    # Audit
    created_by: Mapped[str | None] = mapped_column(String(128))
    updated_by: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
    # The row as the API answers it (JSON text), rendered by autoloader_model's store on every
    # write: a page of ingestions is stored text. Deferred: only pages read it.
    document: Mapped[str | None] = mapped_column(Text, deferred=True)

    tenant: Mapped[Tenant] = relationship()


class Batch(Base):
    __tablename__ = "batches"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    ingestion_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ingestions.id", ondelete="CASCADE"), index=True
    )
    flow_run_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    status: Mapped[BatchStatus] = mapped_column(enum_column(BatchStatus, "batch_status"))
    file_count: Mapped[int] = mapped_column(Integer, default=0)
    byte_count: Mapped[int] = mapped_column(BigInteger, default=0)
    row_count: Mapped[int | None] = mapped_column(BigInteger)
    snapshot_id: Mapped[int | None] = mapped_column(BigInteger)
    started_at: Mapped[datetime] = now_column()
    ended_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    # A part of a batch that was split to isolate a file that failed it.
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("batches.id", ondelete="SET NULL")
    )


class LedgerFile(Base):
    """One row per (ingestion, path) ever seen: the record that makes loads exactly-once."""

    __tablename__ = "files"
    __table_args__ = (
        UniqueConstraint("ingestion_id", "path"),
        # Claiming scans only the claimable rows of one ingestion, oldest first.
        Index(
            "ix_files_claimable",
            "ingestion_id",
            "modified_at",
            "id",
            postgresql_where=text("status IN ('discovered', 'failed')"),
        ),
        Index("ix_files_ingestion_id_status", "ingestion_id", "status"),
        # Source cleanup scans the loaded files not yet cleaned, oldest load first.
        Index(
            "ix_files_cleanable",
            "ingestion_id",
            "loaded_at",
            postgresql_where=text("status = 'loaded' AND cleaned_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    ingestion_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ingestions.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(BigInteger)
    etag: Mapped[str | None] = mapped_column(String(256))
    modified_at: Mapped[datetime]
    status: Mapped[FileStatus] = mapped_column(enum_column(FileStatus, "file_status"))
    batch_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("batches.id", ondelete="SET NULL"), index=True
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(Text)
    error_category: Mapped[str | None] = mapped_column(String(32))  # an ErrorCategory
    # Rewritten under `replace`: the next load deletes the rows its earlier versions loaded.
    replaces_rows: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    rows_loaded: Mapped[int | None] = mapped_column(BigInteger)
    first_seen_at: Mapped[datetime] = now_column()
    loaded_at: Mapped[datetime | None]
    # Source cleanup (after_load delete or move): when it happened and where the file went, or
    # why the last attempt failed (retried by the next run).
    cleaned_at: Mapped[datetime | None]
    cleaned_to: Mapped[str | None] = mapped_column(Text)
    cleanup_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = now_column()


class DiscoveryState(Base):
    """The worker's state of an ingestion: where the last listing stopped (for the START_AFTER
    listing mode), and when a run last got to its end (for the stale-ingestion alert)."""

    __tablename__ = "discovery_state"

    ingestion_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ingestions.id", ondelete="CASCADE"), primary_key=True
    )
    last_key: Mapped[str | None] = mapped_column(Text)
    listings_since_full: Mapped[int] = mapped_column(Integer, default=0)
    last_full_listing_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(server_default=func.now(), onupdate=func.now())


class SchemaVersion(Base):
    """The destination table's schema after each change, and why it changed."""

    __tablename__ = "schema_versions"
    __table_args__ = (UniqueConstraint("ingestion_id", "version"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    ingestion_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ingestions.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    table_schema: Mapped[dict[str, Any]]
    trigger: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("batches.id", ondelete="SET NULL")
    )
    resolution: Mapped[str] = mapped_column(String(64))
    change: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = now_column()


class RunHeartbeat(Base):
    """A live flow run's pulse. A run whose beat stops (its worker was killed along with it) is
    found by reconciliation, marked crashed in Prefect, and its claimed batches settled."""

    __tablename__ = "run_heartbeats"

    flow_run_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    ingestion_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("ingestions.id", ondelete="CASCADE"), index=True
    )
    started_at: Mapped[datetime] = now_column()
    beat_at: Mapped[datetime] = now_column()


class RefreshRequest(Base):
    """A full refresh asked for through the API and done by the ingestion's next run: that run
    deletes the rows its ingestion loaded and sends every file back to discovery, in that order,
    and marks the request done in the same transaction as the ledger reset."""

    __tablename__ = "refresh_requests"
    __table_args__ = (
        Index(
            "ix_refresh_requests_pending",
            "ingestion_id",
            postgresql_where=text("done_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    ingestion_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ingestions.id", ondelete="CASCADE"))
    requested_by: Mapped[str | None] = mapped_column(String(128))
    requested_at: Mapped[datetime] = now_column()
    flow_run_id: Mapped[uuid.UUID | None]
    done_at: Mapped[datetime | None]
    rows_deleted: Mapped[int | None] = mapped_column(BigInteger)
    files_reset: Mapped[int | None] = mapped_column(Integer)
