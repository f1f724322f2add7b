"""A parser for the schema DDL an ingestion may give (`id BIGINT, name STRING, ...`), so the
API refuses a bad schema with the column at fault instead of the first run failing in Spark.

It accepts the subset of Spark's DDL that Iceberg tables can hold: primitive types, DECIMAL,
CHAR/VARCHAR, ARRAY, MAP and STRUCT, NOT NULL and COMMENT. Column names follow the same rule
as every identifier Autoloader puts into Spark SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from autoloader_spark.errors import InvalidIdentifier
from autoloader_spark.identifiers import quote

PRIMITIVES = {
    "boolean",
    "tinyint",
    "byte",
    "smallint",
    "short",
    "int",
    "integer",
    "bigint",
    "long",
    "float",
    "real",
    "double",
    "string",
    "binary",
    "date",
    "timestamp",
    "timestamp_ntz",
    "timestamp_ltz",
}
SIZED = {"decimal": 2, "dec": 2, "numeric": 2, "varchar": 1, "char": 1}
_TOKEN = re.compile(r"\s*(`(?:[^`]|``)*`|'(?:[^'\\]|\\.)*'|[A-Za-z_][A-Za-z0-9_]*|\d+|[<>(),:])")


class DDLError(ValueError):
    pass


@dataclass(frozen=True)
class Column:
    name: str
    type: str


def parse_ddl(ddl: str) -> list[Column]:
    """The top-level columns of `ddl`; DDLError names the column and what is wrong."""
    parser = _Parser(_tokens(ddl))
    columns = parser.fields(top_level=True)
    if parser.peek() is not None:
        raise DDLError(f"unexpected {parser.peek()!r} after the last column")
    if not columns:
        raise DDLError("the schema has no columns")
    names = [c.name.lower() for c in columns]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DDLError(f"duplicate column(s): {', '.join(duplicates)}")
    return columns


def _tokens(ddl: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    text = ddl.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise DDLError(f"unexpected character {text[position:].lstrip()[:1]!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None:
            raise DDLError(f"the schema ends early{f'; expected {expected!r}' if expected else ''}")
        if expected is not None and token.lower() != expected:
            raise DDLError(f"expected {expected!r}, found {token!r}")
        self.position += 1
        return token

    def fields(self, top_level: bool) -> list[Column]:
        columns: list[Column] = []
        closing = None if top_level else ">"
        while self.peek() is not None and self.peek() != closing:
            if columns:
                self.take(",")
            columns.append(self.field())
        return columns

    def field(self) -> Column:
        raw = self.take()
        name = raw[1:-1].replace("``", "`") if raw.startswith("`") else raw
        try:
            quote(name)
        except InvalidIdentifier as error:
            raise DDLError(f"column {name!r}: {error}") from None
        if self.peek() == ":":
            self.take(":")
        try:
            kind = self.type()
            if (self.peek() or "").lower() == "not":
                self.take("not")
                self.take("null")
            if (self.peek() or "").lower() == "comment":
                self.take("comment")
                if not (self.peek() or "").startswith("'"):
                    raise DDLError("COMMENT takes a quoted string")
                self.take()
        except DDLError as error:
            raise DDLError(f"column {name!r}: {error}") from None
        return Column(name, kind)

    def type(self) -> str:
        token = self.take().lower()
        if token in PRIMITIVES:
            return token
        if token in SIZED:
            if self.peek() != "(":
                if token in ("decimal", "dec", "numeric"):
                    return "decimal"
                raise DDLError(f"{token.upper()} needs a length, as {token.upper()}(n)")
            self.take("(")
            sizes = [self.number()]
            while self.peek() == ",":
                self.take(",")
                sizes.append(self.number())
            self.take(")")
            if len(sizes) > SIZED[token]:
                raise DDLError(f"{token.upper()} takes at most {SIZED[token]} numbers")
            if token in ("decimal", "dec", "numeric") and (
                sizes[0] > 38 or (len(sizes) == 2 and sizes[1] > sizes[0])
            ):
                raise DDLError("DECIMAL(p, s) needs 1 <= p <= 38 and s <= p")
            return f"{token}({','.join(map(str, sizes))})"
        if token == "array":
            self.take("<")
            element = self.type()
            self.take(">")
            return f"array<{element}>"
        if token == "map":
            self.take("<")
            key = self.type()
            self.take(",")
            value = self.type()
            self.take(">")
            return f"map<{key},{value}>"
        if token == "struct":
            self.take("<")
            members = self.fields(top_level=False)
            self.take(">")
            return "struct<" + ",".join(f"{m.name}:{m.type}" for m in members) + ">"
        raise DDLError(f"unknown type {token!r}")

    def number(self) -> int:
        token = self.take()
        if not token.isdigit() or int(token) < 1:
            raise DDLError(f"expected a positive number, found {token!r}")
        return int(token)
