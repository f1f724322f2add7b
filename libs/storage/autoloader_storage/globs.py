"""Glob patterns over object keys: `*` and `?` stay within a path segment, `**` crosses them."""

from __future__ import annotations

import re

_SPECIAL = set("*?[")


def glob_to_regex(pattern: str) -> re.Pattern[str]:
    """`**/*.json`, `year=*/month=*/*.parquet`, `data-[0-9]?.csv` as an anchored regex."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                out.append(re.escape(char))
                i += 1
            else:
                body = pattern[i + 1 : end]
                negate = body.startswith("!")
                body = body[1:] if negate else body
                out.append(
                    f"[{'^' if negate else ''}{re.escape(body).replace(chr(92) + '-', '-')}]"
                )
                i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    return re.compile("".join(out) + r"\Z")


def literal_prefix(pattern: str) -> str:
    """The part of the pattern before its first wildcard: listing can start there."""
    for index, char in enumerate(pattern):
        if char in _SPECIAL:
            return pattern[:index]
    return pattern
