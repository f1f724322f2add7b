"""How the files' column names become the table's: kept as written, or made snake_case."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from autoloader_spark.errors import AmbiguousColumns

KEEP = "keep"
SNAKE_CASE = "snake_case"


def snake_case(name: str) -> str:
    """`Order ID` -> order_id, `orderDate` -> order_date, `Zürich` -> zurich, `1st` -> _1st."""
    plain = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    plain = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", plain)
    plain = re.sub(r"\W+", "_", plain).strip("_").lower()
    if not plain:
        return "_"
    return f"_{plain}" if plain[0].isdigit() else plain


def table_names(names: Iterable[str], mode: str) -> dict[str, str]:
    """The table's name for each of the files' names; AmbiguousColumns when two become one
    (Spark compares names without regard to case)."""
    mapped: dict[str, str] = {}
    taken: dict[str, str] = {}
    for name in names:
        target = snake_case(name) if mode == SNAKE_CASE else name
        other = taken.setdefault(target.casefold(), name)
        if other != name:
            why = (
                f"both become {target!r} in snake_case"
                if mode == SNAKE_CASE
                else "differ only by case, and Spark reads them as one column"
            )
            raise AmbiguousColumns((other, name), why)
        mapped[name] = target
    return mapped
