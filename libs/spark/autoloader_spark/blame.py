"""Which file of a batch an error names: exactly one, matched as a whole path, or none.

Spark writes a path in several forms (as given, glob-escaped, as a URI with %-escapes), and an
error about `a.csv.gz` contains the text `a.csv`: a match counts only where the path ends, so
`a.csv` is never blamed for `a.csv.gz`, and an error naming two files of the batch names none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import unquote

from autoloader_spark.paths import literal, spark_file_uri

# What may stand right before or after a path in an error's text without being part of it.
_BEFORE = re.compile(r"[^A-Za-z0-9._\-/%~]")
_AFTER_END = re.compile(r"$|[\s\"'`,;)\]}>|]|[.:](?:\s|$)")


def blamed_file(message: str, paths: Sequence[str]) -> int | None:
    """The index in `paths` of the one file the message names, or None (none, or several)."""
    texts = {message, unquote(message)}
    named: set[int] = set()
    for index, path in enumerate(paths):
        forms = {path, literal(path), spark_file_uri(path), unquote(spark_file_uri(path))}
        if any(_names(text, form) for text in texts for form in forms if form):
            named.add(index)
    return named.pop() if len(named) == 1 else None


def _names(text: str, path: str) -> bool:
    start = text.find(path)
    while start != -1:
        end = start + len(path)
        before_ok = start == 0 or _BEFORE.match(text[start - 1]) is not None
        if before_ok and _AFTER_END.match(text, end) is not None:
            return True
        start = text.find(path, start + 1)
    return False
