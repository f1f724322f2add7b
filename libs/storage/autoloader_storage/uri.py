"""Source URIs as users write them, parsed into one typed form with Spark's path derived."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from autoloader_storage.errors import InvalidSourceURI, UnsupportedScheme


class StoreKind(StrEnum):
    S3 = "s3"
    AZURE = "azure"
    GCS = "gcs"
    LOCAL = "local"


SCHEMES: dict[str, StoreKind] = {
    "s3": StoreKind.S3,
    "s3a": StoreKind.S3,
    "abfs": StoreKind.AZURE,
    "abfss": StoreKind.AZURE,
    "az": StoreKind.AZURE,
    "gs": StoreKind.GCS,
    "gcs": StoreKind.GCS,
    "file": StoreKind.LOCAL,
}

# S3 bucket names: 3-63 of lowercase letters, digits, dots and hyphens (GCS allows `_` too).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")
_CONTAINER = re.compile(r"^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$")
_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")


@dataclass(frozen=True)
class SourceURI:
    """Where files come from: bucket (S3/GCS), container and account (Azure), or a local root."""

    kind: StoreKind
    bucket: str
    prefix: str
    account: str | None = None

    @property
    def root(self) -> str:
        """The canonical URI of the bucket or container, without a trailing slash."""
        if self.kind is StoreKind.S3:
            return f"s3://{self.bucket}"
        if self.kind is StoreKind.GCS:
            return f"gs://{self.bucket}"
        if self.kind is StoreKind.AZURE:
            account = self.account or "{account}"
            return f"abfss://{self.bucket}@{account}.dfs.core.windows.net"
        return "file://"

    def uri_of(self, key: str) -> str:
        """The canonical URI of an object in this source: what the ledger records."""
        if self.kind is StoreKind.LOCAL:
            return f"file://{key}"
        return f"{self.root}/{key}"

    def spark_path(self, key: str | None = None) -> str:
        """The path Spark reads: s3a://, abfss://…@….dfs.core.windows.net/, gs://, file://."""
        if self.kind is StoreKind.AZURE and not self.account:
            raise InvalidSourceURI(
                f"{self.uri_of(key or self.prefix)}: Spark needs the storage account; write the "
                "source as abfss://container@account.dfs.core.windows.net/path"
            )
        path = self.uri_of(self.prefix if key is None else key)
        return "s3a://" + path.removeprefix("s3://") if self.kind is StoreKind.S3 else path

    def with_account(self, account: str) -> SourceURI:
        return SourceURI(self.kind, self.bucket, self.prefix, account)


def parse_source_uri(uri: str) -> SourceURI:
    """Parses and validates a source URI; errors say what is wrong with it."""
    if "://" not in uri:
        raise InvalidSourceURI(
            f"{uri!r} is not a URI; write it as s3://bucket/prefix, abfss://container@account"
            ".dfs.core.windows.net/prefix, gs://bucket/prefix or file:///absolute/path"
        )
    scheme = uri.split("://", 1)[0].lower()
    if scheme not in SCHEMES:
        raise UnsupportedScheme(
            f"{uri!r}: unsupported scheme {scheme!r}; supported: {', '.join(sorted(SCHEMES))}"
        )
    kind = SCHEMES[scheme]
    parts = urlsplit(uri)
    if parts.query or parts.fragment:
        raise InvalidSourceURI(f"{uri!r}: a source URI takes no query (?) or fragment (#)")
    if kind is StoreKind.LOCAL:
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise InvalidSourceURI(f"{uri!r}: a local source is file:///absolute/path")
        return SourceURI(kind, "", _clean_prefix(parts.path, keep_leading_slash=True))
    prefix = _clean_prefix(parts.path)
    if kind is StoreKind.AZURE:
        return _parse_azure(uri, scheme, parts.netloc, prefix)
    bucket = parts.netloc
    if not bucket:
        raise InvalidSourceURI(f"{uri!r}: the bucket name is missing")
    if not _BUCKET.match(bucket) or ".." in bucket:
        raise InvalidSourceURI(f"{uri!r}: {bucket!r} is not a valid bucket name")
    return SourceURI(kind, bucket, prefix)


def _parse_azure(uri: str, scheme: str, netloc: str, prefix: str) -> SourceURI:
    container, _, host = netloc.partition("@")
    account = None
    if host:
        match = re.fullmatch(r"([^.]+)\.(?:dfs|blob)\.core\.windows\.net", host)
        if not match:
            raise InvalidSourceURI(
                f"{uri!r}: expected container@account.dfs.core.windows.net, got {netloc!r}"
            )
        account = match.group(1)
        if not _ACCOUNT.match(account):
            raise InvalidSourceURI(f"{uri!r}: {account!r} is not a valid storage account name")
    elif scheme != "az" and not container:
        raise InvalidSourceURI(f"{uri!r}: the container name is missing")
    if not container:
        raise InvalidSourceURI(f"{uri!r}: the container name is missing")
    if not _CONTAINER.match(container):
        raise InvalidSourceURI(f"{uri!r}: {container!r} is not a valid container name")
    return SourceURI(StoreKind.AZURE, container, prefix, account)


def _clean_prefix(path: str, keep_leading_slash: bool = False) -> str:
    if "//" in path.lstrip("/") or any(part in (".", "..") for part in path.split("/")):
        raise InvalidSourceURI(f"{path!r}: the path may not contain empty, '.' or '..' segments")
    cleaned = path.rstrip("/")
    if keep_leading_slash:
        return cleaned or "/"
    return cleaned.lstrip("/")


def spark_path_of(uri: str) -> str:
    """The path Spark reads for a canonical object URI from a listing (s3:// becomes s3a://)."""
    return "s3a://" + uri.removeprefix("s3://") if uri.startswith("s3://") else uri
