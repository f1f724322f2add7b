"""URL scheme -> fsspec filesystem, with the aliases users write and clear errors."""

from __future__ import annotations

from typing import Any

import fsspec
from fsspec import AbstractFileSystem


class UnsupportedSchemeError(ValueError):
    pass


class MissingDriverError(ImportError):
    pass


# Scheme as users write it -> (fsspec protocol, the package that implements it).
PROTOCOLS: dict[str, tuple[str, str]] = {
    "s3": ("s3", "s3fs"),
    "s3a": ("s3", "s3fs"),
    "abfs": ("abfs", "adlfs"),
    "abfss": ("abfs", "adlfs"),
    "az": ("abfs", "adlfs"),
    "gs": ("gcs", "gcsfs"),
    "gcs": ("gcs", "gcsfs"),
    "file": ("file", "fsspec"),
}


def scheme_of(url: str) -> str:
    return url.split("://", 1)[0].lower() if "://" in url else "file"


def filesystem_for(url: str, **options: Any) -> AbstractFileSystem:
    """An fsspec filesystem for the URL's scheme, built with the given connection options."""
    scheme = scheme_of(url)
    if scheme not in PROTOCOLS:
        raise UnsupportedSchemeError(
            f"Unsupported scheme {scheme!r} in {url!r}; supported: {', '.join(sorted(PROTOCOLS))}."
        )
    protocol, package = PROTOCOLS[scheme]
    try:
        return fsspec.filesystem(protocol, **options)
    except ImportError as error:
        raise MissingDriverError(
            f"{scheme}:// needs the {package!r} package, which is not installed: {error}"
        ) from error
