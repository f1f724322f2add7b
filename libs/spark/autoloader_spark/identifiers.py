"""Catalog, namespace, table and column names that are safe to put into Spark SQL."""

from __future__ import annotations

import re
from dataclasses import dataclass

from autoloader_spark.errors import InvalidIdentifier

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
# `days(event_time)`, `bucket(16, id)`, `region`: Iceberg partition transforms.
TRANSFORMS = ("years", "months", "days", "hours", "bucket", "truncate", "identity")


def quote(name: str) -> str:
    """Backtick-quotes a validated name: nothing the user writes reaches SQL unquoted."""
    if not _NAME.match(name):
        raise InvalidIdentifier(
            f"{name!r} is not a valid identifier: use letters, digits and _, starting with a letter or _"
        )
    return f"`{name}`"


def quote_column(name: str) -> str:
    """Backtick-quotes a column or field name as a file carries it: any text at all (spaces,
    dots, `:`, `<`, backticks, non-ASCII letters) reaches Spark SQL as that one name, never as
    syntax. Catalogs, namespaces and tables keep the strict rule of quote()."""
    return "`" + name.replace("`", "``") + "`"


def sql_string(value: str) -> str:
    """A Spark SQL string literal holding `value` exactly (quotes and backslashes escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True)
class TableRef:
    catalog: str
    namespace: str
    table: str

    def __post_init__(self) -> None:
        for part in (self.catalog, *self.namespace.split("."), self.table):
            quote(part)

    @property
    def namespace_sql(self) -> str:
        return ".".join(quote(p) for p in (self.catalog, *self.namespace.split(".")))

    @property
    def sql(self) -> str:
        return f"{self.namespace_sql}.{quote(self.table)}"

    def metadata_table(self, name: str) -> str:
        return f"{self.sql}.{quote(name)}"


def partition_sql(spec: str) -> str:
    """`days(ts)` / `bucket(16, id)` / `region` as Spark SQL, with every name checked."""
    spec = spec.strip()
    if "(" not in spec:
        return quote(spec)
    name, _, rest = spec.partition("(")
    name = name.strip()
    if name not in TRANSFORMS or not rest.endswith(")"):
        raise InvalidIdentifier(
            f"unknown partition transform {spec!r}; use one of {', '.join(TRANSFORMS)}"
        )
    arguments = [a.strip() for a in rest[:-1].split(",")]
    if name in ("bucket", "truncate"):
        if len(arguments) != 2 or not arguments[0].isdigit() or int(arguments[0]) < 1:
            raise InvalidIdentifier(f"{spec!r}: write {name}(N, column) with N a positive number")
        return f"{name}({int(arguments[0])}, {quote(arguments[1])})"
    if len(arguments) != 1:
        raise InvalidIdentifier(f"{spec!r}: {name} takes one column")
    return f"{name}({quote(arguments[0])})"
