"""Process settings, read from AUTOLOADER_* environment variables (and PREFECT_API_URL)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUTOLOADER_", extra="ignore")

    environment: Literal["local", "test", "production"] = Field(
        default="local", description="local enables conveniences that production refuses."
    )
    database_url: SecretStr = Field(
        default=SecretStr("postgresql+psycopg://autoloader@127.0.0.1:55432/autoloader"),
        description="SQLAlchemy URL of the metadata store; holds a password, so never logged.",
    )
    prefect_api_url: str = Field(
        default="http://127.0.0.1:4200/api",
        validation_alias=AliasChoices("AUTOLOADER_PREFECT_API_URL", "PREFECT_API_URL"),
        description="Prefect server API the api and workers talk to.",
    )
    work_pool: str = Field(default="autoloader", description="Prefect work pool of the workers.")
    spark_remote: str = Field(
        default="sc://127.0.0.1:15002", description="Spark Connect URL of the default cluster."
    )
    spark_clusters: dict[str, str] = Field(
        default_factory=dict,
        description="Named Spark Connect clusters as JSON {name: sc://...}; `default` is "
        "spark_remote unless named here. An ingestion picks one by name.",
    )
    cluster_identities: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Sources a Spark cluster's own identity may read, as JSON {cluster: "
        '["s3://landing-*", ...]}: a pattern (fnmatch, `*` crosses `/`) matches the whole '
        "source URI. There, and only there, an ingestion's credential may be `default`; "
        "everywhere else Spark reads with the ingestion's own credential.",
    )
    # Orchestration (defaults from the design note, section 8.1)
    priority_queue: str = Field(default="priority", description="Manual runs, retries, previews.")
    default_queue: str = Field(default="default", description="Scheduled runs.")
    high_memory_queue: str = Field(default="high-memory", description="Large backlogs.")
    high_memory_threshold_bytes: int = Field(
        default=10 * 1024**3,
        ge=1,
        description="An ingestion with more pending bytes than this runs on the high-memory queue.",
    )
    task_retries: int = Field(
        default=3,
        ge=0,
        description="Retries of a failed flow task (a cluster or store error; never a file's "
        "malformed, schema_mismatch, unsupported or too_large failure).",
    )
    tenant_max_ingestions: int = Field(
        default=1000, ge=1, description="Live ingestions one tenant may have (429 past it)."
    )
    tenant_max_runs_in_flight: int = Field(
        default=20,
        ge=1,
        description="A tenant's runs pending, running or triggered and not started, previews "
        "included; a trigger or retry past it answers 429.",
    )
    tenant_max_previews_in_flight: int = Field(
        default=3, ge=1, description="A tenant's previews not finished; 429 past it."
    )
    max_file_attempts: int = Field(
        default=3,
        ge=1,
        le=100,
        description="Runs that try a file whose failure may pass (permission, not_found, "
        "transient) before it stays failed; a deterministic failure stays failed at once.",
    )
    task_retry_delay_seconds: float = Field(
        default=60, ge=0, description="Wait before the first retry; doubles for each next one."
    )
    task_timeout_seconds: float = Field(
        default=1800, gt=0, description="A flow task's limit (one discovery, one batch)."
    )
    flow_timeout_seconds: float = Field(default=3600, gt=0, description="A run's hard limit.")
    run_budget_seconds: float = Field(
        default=3000,
        gt=0,
        description="A run claims no new batch after this long; the backlog waits for the next.",
    )
    cleanup_files_per_run: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="Loaded files a run deletes or moves (source.after_load) at most; the rest "
        "wait for the next run.",
    )
    heartbeat_seconds: float = Field(default=10, gt=0, description="A run's heartbeat period.")
    stale_run_seconds: float = Field(
        default=90,
        gt=0,
        description="A run with no heartbeat for this long is dead: reconciliation crashes it.",
    )
    reconcile_every_seconds: float = Field(
        default=30, gt=0, description="Period of the workers' reconciliation loop."
    )
    prefect_ui_url: str | None = Field(
        default=None,
        description="Prefect's UI as people reach it (http://prefect:4200): runs link to it.",
    )
    console_url: str | None = Field(
        default=None,
        description="The web console as people reach it (https://autoloader.example/ui): "
        "each Prefect deployment's description links to its ingestion's page there.",
    )
    api_host: str = Field(default="127.0.0.1", description="Address the API listens on.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="Port the API listens on.")
    admin_api_key: SecretStr | None = Field(
        default=None,
        description="The first admin key (al_<12 hex>_<secret>, from `migrate new-api-key`), "
        "installed by `migrate bootstrap`; read from a Secret, never stored in clear.",
    )
    admin_tenant: str = Field(default="default", description="Tenant of the first admin key.")
    # Reach: what an ingestion may make a worker or Spark read.
    allow_local_sources: bool | None = Field(
        default=None,
        description="Allow file:// sources. Unset: allowed unless environment is production.",
    )
    allow_custom_endpoints: bool | None = Field(
        default=None,
        description="Allow credentials that name an endpoint_url (MinIO, emulators). Unset: "
        "allowed unless environment is production.",
    )
    allowed_endpoints: list[str] = Field(
        default_factory=list,
        description="When not empty, the only endpoint hosts (host or host:port) an ingestion's "
        "credentials may name.",
    )
    require_credential_grants: bool | None = Field(
        default=None,
        description="Ingestions may use only the credentials an admin granted their tenant "
        "(`anonymous` needs no grant); unset: required in production only.",
    )
    api_key_cache_seconds: float = Field(
        default=10,
        ge=0,
        description="How long the API trusts a key it checked; a revoked key stops working "
        "within this time (0: check every request).",
    )
    api_database_pool_size: int = Field(
        default=20,
        ge=1,
        le=200,
        description="Per API process: connections for units of work (SQLAlchemy's asyncio "
        "engine). Past them a request waits api_database_pool_timeout_seconds, then gets 503 "
        "with Retry-After. PostgreSQL must allow this plus api_hot_read_pool_size per process.",
    )
    api_hot_read_pool_size: int = Field(
        default=10,
        ge=1,
        le=200,
        description="Per API process: asyncpg connections for the hot single reads (a page of "
        "ingestions, one ingestion, an API key), taken in arrival order.",
    )
    api_database_pool_timeout_seconds: float = Field(
        default=3.0,
        gt=0,
        le=30,
        description="How long a request waits for a free database connection before 503.",
    )
    api_database_connect_timeout_seconds: float = Field(
        default=5, gt=0, le=60, description="Opening a database connection from the API."
    )
    api_statement_timeout_seconds: float = Field(
        default=10,
        gt=0,
        le=600,
        description="PostgreSQL's statement_timeout on the API's connections.",
    )
    api_lock_timeout_seconds: float = Field(
        default=2,
        gt=0,
        le=60,
        description="PostgreSQL's lock_timeout on the API's connections: a write that waits "
        "longer on another's row lock fails (409) instead of queueing.",
    )
    api_idle_in_transaction_timeout_seconds: float = Field(
        default=15,
        gt=0,
        le=600,
        description="PostgreSQL ends an API transaction left idle this long "
        "(idle_in_transaction_session_timeout).",
    )
    api_request_deadline_seconds: float = Field(
        default=75,
        gt=0,
        le=3600,
        description="A request not answered within this gets 504; nothing waits longer. "
        "Above preview_wait_seconds, which a preview request may wait.",
    )
    api_max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        le=64 * 1024 * 1024,
        description="A request body larger than this gets 413 before it is parsed.",
    )
    api_prefect_concurrency: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Per API process: calls to Prefect in flight at once; more wait their turn "
        "(within the request's deadline) rather than overload Prefect's API.",
    )
    prefect_timeout_seconds: float = Field(
        default=10,
        gt=0,
        le=300,
        description="A bound on each call the API makes to Prefect (retries included); past "
        "it the request gets 503.",
    )
    preview_wait_seconds: float = Field(
        default=60, ge=0, description="How long a preview request waits for its result."
    )

    # Kubernetes work pools: what a run's pod is made of, by reference (the chart sets these).
    worker_image: str = Field(
        default="autoloader/worker:latest", description="Image of the run pods (Kubernetes)."
    )
    job_namespace: str = Field(default="autoloader", description="Namespace of the run pods.")
    job_service_account: str = Field(
        default="autoloader-runs", description="Service account of the run pods."
    )
    job_config_map: str = Field(
        default="autoloader-config", description="ConfigMap whose keys the run pods get as env."
    )
    job_env_secrets: str = Field(
        default="",
        description="Comma-separated Secrets whose keys the run pods get as environment variables.",
    )
    job_database_secret: str = Field(
        default="",
        description="`secret/key` of the run pods' AUTOLOADER_DATABASE_URL (key defaults to url).",
    )
    job_prefect_auth_secret: str = Field(
        default="",
        description="`secret/key` of the run pods' PREFECT_API_AUTH_STRING (Prefect's basic "
        "auth), when the Prefect server requires it.",
    )
    job_files_secret: str = Field(
        default="",
        description="A Secret mounted in the run pods at /etc/autoloader/credentials, for "
        "`file:` credentials.",
    )

    @property
    def credential_grants_required(self) -> bool:
        if self.require_credential_grants is not None:
            return self.require_credential_grants
        return self.environment == "production"

    @property
    def local_sources_allowed(self) -> bool:
        if self.allow_local_sources is not None:
            return self.allow_local_sources
        return self.environment != "production"

    @property
    def custom_endpoints_allowed(self) -> bool:
        if self.allow_custom_endpoints is not None:
            return self.allow_custom_endpoints
        return self.environment != "production"

    @property
    def cluster_names(self) -> list[str]:
        return sorted({"default", *self.spark_clusters})

    def spark_remote_of(self, cluster: str) -> str:
        """The Spark Connect URL of a named cluster; `default` falls back to spark_remote."""
        if cluster in self.spark_clusters:
            return self.spark_clusters[cluster]
        if cluster == "default":
            return self.spark_remote
        known = ", ".join(sorted({"default", *self.spark_clusters}))
        raise KeyError(f"no Spark cluster named {cluster!r}; configured: {known}")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
