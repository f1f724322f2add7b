"""`delete_when` of a merge ingestion: a column compared with one literal (`deleted = true`,
`op = 'D'`, ``status code`` = 9`). It is parsed, never passed to Spark as SQL text, so it
can name any column and inject nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass

_CONDITION = re.compile(
    r"^\s*(?P<column>`(?:[^`]|``)+`|[A-Za-z_][A-Za-z0-9_]*)\s*=\s*"
    r"(?P<value>true|false|-?\d{1,18}|'(?:[^'\\]|\\.){0,1024}')\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Equals:
    column: str
    value: bool | int | str


def parse_condition(text: str) -> Equals:
    """ValueError, saying what is accepted, for anything but `<column> = <literal>`."""
    match = _CONDITION.match(text)
    if match is None:
        raise ValueError(
            "write <column> = <value>, the value true, false, an integer or a 'quoted string' "
            "(a column name with other characters in backticks)"
        )
    column = match["column"]
    if column.startswith("`"):
        column = column[1:-1].replace("``", "`")
    raw = match["value"]
    value: bool | int | str
    if raw.lower() in ("true", "false"):
        value = raw.lower() == "true"
    elif raw.startswith("'"):
        value = re.sub(r"\\(.)", r"\1", raw[1:-1])
    else:
        value = int(raw)
    return Equals(column, value)
