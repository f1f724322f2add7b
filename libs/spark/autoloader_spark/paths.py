"""File paths between the ledger and Spark: how to hand Spark a path so it reads that file and
no other, and how Spark writes a file's path back (its _metadata.file_path)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from urllib.parse import quote

from pyspark.sql import DataFrame, DataFrameReader

# Hadoop's glob metacharacters. Spark globs every path it is given to read.
_GLOB_CHARACTERS = re.compile(r"([\[\]{}*?\\])")
# What java.net.URI leaves unescaped in a path, besides ASCII letters and digits.
_URI_PATH_SAFE = frozenset("-_.!~*'():@&=+$,;/")
_URI_PATH_PLAIN = re.compile(r"[A-Za-z0-9\-_.!~*'():@&=+$,;/]*")


def literal(path: str) -> str:
    """`path` with Hadoop's glob characters escaped, so that Spark reads the file of that name.

    Unescaped, a file named x[1].csv reads x1.csv, a?c.csv reads abc.csv as well, and either
    lists its folder and fails on a neighbour whose name holds a colon."""
    return _GLOB_CHARACTERS.sub(r"\\\1", path)


def load_files(read: DataFrameReader, paths: Sequence[str]) -> DataFrame:
    """The reader loading exactly these files (or folders), taken as names, not patterns."""
    return read.load([literal(path) for path in paths])


def spark_file_uri(path: str) -> str:
    """A file's path as Spark reports it in _metadata.file_path: Hadoop's Path.toUri().toString().

    java.net.URI percent-encodes the ASCII characters a path may not hold (space, %, #, ?, …)
    and non-ASCII spaces and controls, and keeps every other character, accented ones included;
    a local file is written file:/path, without the empty authority.
    """
    scheme, _, rest = path.partition("://")
    authority, slash, file_path = rest.partition("/")
    encoded = slash + file_path
    if not _URI_PATH_PLAIN.fullmatch(encoded):  # most names need no escaping: skip the loop
        encoded = "".join(_uri_path_char(char) for char in encoded)
    if scheme == "file" and not authority:
        return f"file:{encoded}"
    return f"{scheme}://{authority}{encoded}"


def _uri_path_char(char: str) -> str:
    if char.isascii():
        return char if char.isalnum() or char in _URI_PATH_SAFE else quote(char, safe="")
    if unicodedata.category(char) in ("Zs", "Zl", "Zp", "Cc"):
        return quote(char, safe="")
    return char
