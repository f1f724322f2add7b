"""What commands print: a table for people, or JSON / YAML for machines (`-o json|yaml`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text

# Into a pipe or a file, tables keep every character (Rich would cut them at 80 columns).
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 10_000)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class Output(StrEnum):
    TABLE = "table"
    JSON = "json"
    YAML = "yaml"


Column = tuple[str, Callable[[dict[str, Any]], Any]]


def emit(data: Any, output: Output, columns: Sequence[Column] | None = None) -> None:
    """`data` (the API's answer) as asked; a table shows `columns` of each item."""
    if output is Output.JSON:
        print(json.dumps(data, indent=2, sort_keys=False))
    elif output is Output.YAML:
        print(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), end="")
    elif columns is None:
        items = data if isinstance(data, dict) else {"value": data}
        table = Table(show_header=False, box=None)
        for key, value in items.items():
            table.add_row(Text(str(key), style="bold"), _cell(value))
        out.print(table)
    else:
        table = Table(box=None, header_style="bold")
        for title, _ in columns:
            table.add_column(title)
        for item in data if isinstance(data, list) else [data]:
            table.add_row(*(_cell(read(item)) for _, read in columns))
        out.print(table)


def _cell(value: Any) -> Text:
    """A cell's text as it is (never read as Rich markup: a path may hold `[1]`)."""
    if value is None:
        return Text("-")
    if isinstance(value, dict | list):
        return Text(json.dumps(value, sort_keys=True))
    return Text(str(value))


def when(value: str | None) -> str:
    """An API time (ISO 8601, UTC) as people read it."""
    if not value:
        return "-"
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def size(count: int | None) -> str:
    if count is None:
        return "-"
    value = float(count)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{count} B"
