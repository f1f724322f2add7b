"""fsspec filesystems for a source and its resolved connection, with clear errors."""

from __future__ import annotations

from typing import Any

import fsspec
from fsspec import AbstractFileSystem

from autoloader_storage.credentials import Connection
from autoloader_storage.errors import MissingDriver, UnsupportedScheme
from autoloader_storage.uri import SCHEMES, SourceURI, StoreKind

# fsspec protocol and the package implementing it, per kind of store.
PROTOCOLS: dict[StoreKind, tuple[str, str]] = {
    StoreKind.S3: ("s3", "s3fs"),
    StoreKind.AZURE: ("abfs", "adlfs"),
    StoreKind.GCS: ("gcs", "gcsfs"),
    StoreKind.LOCAL: ("file", "fsspec"),
}
# Fail fast on an endpoint that does not answer, rather than after minutes of retries.
S3_CLIENT_CONFIG = {
    "connect_timeout": 5,
    "read_timeout": 60,
    "retries": {"max_attempts": 3, "mode": "standard"},
}


def filesystem(source: SourceURI, connection: Connection) -> AbstractFileSystem:
    options = connection.fsspec_options()
    if source.kind is StoreKind.S3:
        options["config_kwargs"] = S3_CLIENT_CONFIG
    return _make(source.kind, options)


def filesystem_for(url: str, **options: Any) -> AbstractFileSystem:
    """A filesystem for a URL's scheme built from raw fsspec options (tests, tools)."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else "file"
    if scheme not in SCHEMES:
        raise UnsupportedScheme(
            f"Unsupported scheme {scheme!r} in {url!r}; supported: {', '.join(sorted(SCHEMES))}."
        )
    return _make(SCHEMES[scheme], options)


def _make(kind: StoreKind, options: dict[str, Any]) -> AbstractFileSystem:
    protocol, package = PROTOCOLS[kind]
    try:
        return fsspec.filesystem(protocol, **options)
    except ImportError as error:
        raise MissingDriver(
            f"{kind.value} sources need the {package!r} package, which is not installed: {error}"
        ) from error
