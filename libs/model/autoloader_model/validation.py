"""Field checks that need no settings: each raises ValueError with a message for its field."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from autoloader_model.ddl import DDLError, parse_ddl
from prefect.client.schemas.schedules import CronSchedule
from pydantic import ValidationError, ValidationInfo

from autoloader_spark.conditions import parse_condition
from autoloader_spark.errors import InvalidIdentifier
from autoloader_spark.identifiers import partition_sql, quote
from autoloader_storage.errors import InvalidSourceURI
from autoloader_storage.uri import parse_source_uri

_CREDENTIAL = re.compile(
    r"^(default|anonymous|env:[A-Za-z_][A-Za-z0-9_]{0,127}|file:/[^\0]{1,1023})$"
)
_PROPERTY_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
T = TypeVar("T")
_GLOB = re.compile(r"^[^\0\r\n]{1,1024}$")


STORED = "stored"  # validation context of a row read back: checked when it was written


def unless_stored(check: Callable[[T], T]) -> Callable[[T, ValidationInfo], T]:
    """`check`, skipped for a spec read back from the store (validated when it was written):
    the costly checks (Prefect's cron parser, the DDL parser) then cost reads nothing, and a
    rule tightened later never makes a stored ingestion unreadable."""

    def run(value: T, info: ValidationInfo) -> T:
        if info.context and info.context.get(STORED):
            return value
        return check(value)

    return run


def source_uri(value: str) -> str:
    try:
        parse_source_uri(value)
    except InvalidSourceURI as error:
        raise ValueError(str(error)) from None
    return value


def archive_uri(value: str | None) -> str | None:
    return None if value is None else source_uri(value)


def archive_beside(source: str, archive: str) -> None:
    """An archive is on the source's store (the source's credentials move files into it), and
    never where the source's listing would find the moved files again."""
    try:
        origin, target = parse_source_uri(source), parse_source_uri(archive)
    except InvalidSourceURI:
        return  # the URI's own check says what is wrong with it
    if target.kind is not origin.kind or (
        origin.account and target.account and origin.account != target.account
    ):
        raise ValueError(
            "source.archive_uri: must be on the source's store (same kind and account), "
            "which the source's credentials move files into"
        )
    if target.bucket != origin.bucket:
        return
    base, folder = origin.prefix.strip("/"), target.prefix.strip("/")
    if folder == base or folder.startswith(f"{base}/") or not base:
        below = folder[len(base) :].strip("/").split("/")
        if not any(part.startswith(("_", ".")) for part in below if part):
            raise ValueError(
                "source.archive_uri: inside the source, the listing would find moved files "
                "again; archive outside it, or in a hidden folder of it (_archive/)"
            )


def credential_ref(value: str | None) -> str | None:
    if value is not None and not _CREDENTIAL.match(value):
        raise ValueError(
            "write default, anonymous, env:NAME (letters, digits, _) or file:/path/to/secret.json"
        )
    return value


def glob(value: str | None) -> str | None:
    if value is not None and (not _GLOB.match(value) or value.startswith("/")):
        raise ValueError("a glob is relative to the source, one line, at most 1024 characters")
    return value


def identifier(value: str) -> str:
    try:
        quote(value)
    except InvalidIdentifier as error:
        raise ValueError(str(error)) from None
    return value


def namespace(value: str) -> str:
    for part in value.split("."):
        identifier(part)
    return value


def path_columns(values: list[str]) -> list[str]:
    for value in values:
        identifier(value)
    folded = [v.casefold() for v in values]
    repeated = sorted({v for v in folded if folded.count(v) > 1})
    if repeated:
        raise ValueError(f"{', '.join(repeated)} is named more than once")
    return values


def partitioning(values: list[str]) -> list[str]:
    for value in values:
        try:
            partition_sql(value)
        except InvalidIdentifier as error:
            raise ValueError(str(error)) from None
    return values


# Iceberg table properties a tenant may set: how data and metadata are written, committed,
# read and kept. Anything that places files (write.data.path, write.metadata.path, location,
# write.object-storage.*) or changes the format version is refused: a tenant would make Spark
# write wherever the cluster can, another tenant's landing prefix included.
ALLOWED_PROPERTIES = frozenset(
    {
        "comment",
        "write.format.default",
        "write.delete.format.default",
        "write.target-file-size-bytes",
        "write.delete.target-file-size-bytes",
        "write.distribution-mode",
        "write.delete.mode",
        "write.update.mode",
        "write.merge.mode",
        "write.parquet.compression-codec",
        "write.parquet.compression-level",
        "write.parquet.row-group-size-bytes",
        "write.parquet.page-size-bytes",
        "write.parquet.page-row-limit",
        "write.parquet.dict-size-bytes",
        "write.parquet.bloom-filter-max-bytes",
        "write.avro.compression-codec",
        "write.avro.compression-level",
        "write.orc.compression-codec",
        "write.orc.compression-strategy",
        "write.orc.stripe-size-bytes",
        "write.orc.block-size-bytes",
        "write.metadata.compression-codec",
        "write.metadata.metrics.default",
        "write.metadata.metrics.max-inferred-column-defaults",
        "write.metadata.delete-after-commit.enabled",
        "write.metadata.previous-versions-max",
        "write.summary.partition-limit",
        "write.spark.fanout.enabled",
        "commit.retry.num-retries",
        "commit.retry.min-wait-ms",
        "commit.retry.max-wait-ms",
        "commit.retry.total-timeout-ms",
        "commit.manifest.target-size-bytes",
        "commit.manifest.min-count-to-merge",
        "commit.manifest-merge.enabled",
        "history.expire.max-snapshot-age-ms",
        "history.expire.min-snapshots-to-keep",
        "history.expire.max-ref-age-ms",
        "read.split.target-size",
        "read.split.metadata-target-size",
        "read.split.planning-lookback",
        "read.split.open-file-cost",
        "read.parquet.vectorization.enabled",
        "read.parquet.vectorization.batch-size",
    }
)
# Per-column settings: write.metadata.metrics.column.<column>, write.parquet.bloom-filter-….
ALLOWED_PROPERTY_PREFIXES = (
    "write.metadata.metrics.column.",
    "write.parquet.bloom-filter-enabled.column.",
    "write.parquet.bloom-filter-fpp.column.",
)


def table_properties(values: dict[str, str]) -> dict[str, str]:
    for key in values:
        if not _PROPERTY_KEY.match(key):
            raise ValueError(f"{key!r} is not a valid table property name")
        if key not in ALLOWED_PROPERTIES and not key.startswith(ALLOWED_PROPERTY_PREFIXES):
            placing = (
                "location" in key
                or key.endswith(".path")
                or "object-storage" in key
                or key == "format-version"
            )
            why = (
                "places the table's files or sets its format, which Autoloader decides"
                if placing
                else "is not one of the write, commit, read and retention properties allowed"
            )
            raise ValueError(
                f"{key!r} {why}; see ALLOWED_PROPERTIES in autoloader_model.validation "
                "(docs: README, Loading into Iceberg)"
            )
    return values


def delete_when(value: str | None) -> str | None:
    if value is not None:
        parse_condition(value)
    return value


def schema_ddl(value: str | None) -> str | None:
    if value is not None:
        try:
            parse_ddl(value)
        except DDLError as error:
            raise ValueError(str(error)) from None
    return value


def cron(value: str | None) -> str | None:
    """A cron Prefect accepts, of five fields (minute hour day month weekday): Prefect also
    takes a sixth field of seconds, and `* * * * * *` would run every second."""
    if value is not None:
        fields = value.split()
        if len(fields) != 5 and not (len(fields) == 1 and fields[0].startswith("@")):
            raise ValueError(
                f"write five fields (minute hour day month weekday), not {len(fields)}; "
                "runs are at most one a minute"
            )
        _prefect_schedule(value, "UTC")
    return value


def timezone(value: str) -> str:
    _prefect_schedule("0 0 * * *", value)
    return value


def _prefect_schedule(cron: str, timezone: str) -> None:
    try:
        CronSchedule(cron=cron, timezone=timezone)
    except (ValidationError, ValueError) as error:
        errors = error.errors() if isinstance(error, ValidationError) else [{"msg": str(error)}]
        raise ValueError(
            "; ".join(str(e.get("msg", "")).removeprefix("Value error, ") for e in errors)
        ) from None


def scalar_options(values: dict[str, Any]) -> dict[str, str]:
    """Reader options as the strings Spark takes (booleans as true/false)."""
    return {k: (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in values.items()}
