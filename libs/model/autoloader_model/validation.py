"""Field checks that need no settings: each raises ValueError with a message for its field."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from autoloader_model.ddl import DDLError, parse_ddl
from prefect.client.schemas.schedules import CronSchedule
from pydantic import ValidationError, ValidationInfo

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


def partitioning(values: list[str]) -> list[str]:
    for value in values:
        try:
            partition_sql(value)
        except InvalidIdentifier as error:
            raise ValueError(str(error)) from None
    return values


def table_properties(values: dict[str, str]) -> dict[str, str]:
    for key in values:
        if not _PROPERTY_KEY.match(key):
            raise ValueError(f"{key!r} is not a valid table property name")
    return values


def schema_ddl(value: str | None) -> str | None:
    if value is not None:
        try:
            parse_ddl(value)
        except DDLError as error:
            raise ValueError(str(error)) from None
    return value


def cron(value: str | None) -> str | None:
    """A cron Prefect accepts (five fields; no random or hashed expressions)."""
    if value is not None:
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
