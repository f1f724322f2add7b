"""Credentials by reference: an ingestion names where its secrets are, never the secrets.

A reference is one of
  default            the platform's chain (IAM role, workload identity, ADC)
  anonymous          no credentials (public buckets, emulators)
  env:NAME           environment variables NAME_<FIELD>, e.g. NAME_ACCESS_KEY_ID
  file:/path.json    a mounted secret: a JSON object of the same fields, lowercase
The fields per store are those of its connection class; endpoint_url points at MinIO or an
emulator. A resolved connection knows its two uses: fsspec arguments for the worker's listing
and Hadoop settings that make Spark read the same source with the same identity.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urlsplit

from autoloader_storage.errors import CredentialNotFound, SparkAccessRefused
from autoloader_storage.uri import SourceURI, StoreKind

SECRET_FIELDS = {
    "secret_access_key",
    "session_token",
    "connection_string",
    "account_key",
    "sas_token",
}
# Hadoop keeps one FileSystem per scheme and bucket in a JVM-wide cache, whichever settings
# made it first: without this a read with one tenant's identity could reuse another's client.
_NO_FS_CACHE = "fs.{scheme}.impl.disable.cache"


@dataclass(frozen=True, repr=False)
class Connection:
    """Resolved connection settings for one store; its repr never shows a secret."""

    kind: ClassVar[StoreKind] = StoreKind.LOCAL
    reference: str = "default"
    endpoint_url: str | None = None

    def __repr__(self) -> str:
        shown = {
            f.name: ("***" if f.name in SECRET_FIELDS else value)
            for f in dataclasses.fields(self)
            if (value := getattr(self, f.name)) not in (None, False) and f.name != "reference"
        }
        return f"{type(self).__name__}(reference={self.reference!r}, values={shown})"

    @property
    def is_default(self) -> bool:
        """Whether the platform's identity (the worker's, and the cluster's) is meant."""
        return self.reference == "default"

    def fsspec_options(self) -> dict[str, Any]:
        """Keyword arguments for the fsspec filesystem of this store."""
        return {}

    def spark_settings(self, source: SourceURI) -> dict[str, str]:
        """Hadoop settings, given to one Spark read, that read `source` with this identity."""
        return {}


@dataclass(frozen=True, repr=False)
class S3Connection(Connection):
    kind: ClassVar[StoreKind] = StoreKind.S3
    access_key_id: str | None = None
    secret_access_key: str | None = None
    session_token: str | None = None
    region: str | None = None
    anonymous: bool = False

    @property
    def is_anonymous(self) -> bool:
        return self.reference == "anonymous" or self.anonymous

    def fsspec_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {"anon": self.is_anonymous}
        if self.access_key_id:
            options.update(key=self.access_key_id, secret=self.secret_access_key)
        if self.session_token:
            options["token"] = self.session_token
        client: dict[str, str] = {}
        if self.endpoint_url:
            client["endpoint_url"] = self.endpoint_url
        if self.region:
            client["region_name"] = self.region
        if client:
            options["client_kwargs"] = client
        return options

    def spark_settings(self, source: SourceURI) -> dict[str, str]:
        # Per-bucket keys (S3A's fs.s3a.bucket.NAME.*): the read's other buckets (none today)
        # and the cluster's warehouse keep their own settings.
        bucket = f"fs.s3a.bucket.{source.bucket}."
        settings = {_NO_FS_CACHE.format(scheme="s3a"): "true"}
        if self.is_anonymous:
            provider = "org.apache.hadoop.fs.s3a.AnonymousAWSCredentialsProvider"
        elif self.access_key_id and self.secret_access_key:
            settings[f"{bucket}access.key"] = self.access_key_id
            settings[f"{bucket}secret.key"] = self.secret_access_key
            provider = "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
            if self.session_token:
                settings[f"{bucket}session.token"] = self.session_token
                provider = "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider"
        else:
            raise SparkAccessRefused(
                f"credential {self.reference}: Spark needs an access key with its secret "
                "(or anonymous=true) to read this source"
            )
        settings[f"{bucket}aws.credentials.provider"] = provider
        # The store the listing reached: the credential's endpoint, or AWS's own (an empty
        # endpoint), never one the cluster's configuration happens to name.
        settings[f"{bucket}endpoint"] = self.endpoint_url or ""
        if self.endpoint_url:
            settings[f"{bucket}path.style.access"] = "true"
            secure = self.endpoint_url.lower().startswith("https://")
            settings[f"{bucket}connection.ssl.enabled"] = str(secure).lower()
        if self.region:
            settings[f"{bucket}endpoint.region"] = self.region
        return settings


@dataclass(frozen=True, repr=False)
class AzureConnection(Connection):
    kind: ClassVar[StoreKind] = StoreKind.AZURE
    connection_string: str | None = None
    account_name: str | None = None
    account_key: str | None = None
    sas_token: str | None = None

    def __post_init__(self) -> None:
        # A connection string is split once, here, so that the listing and Spark take the
        # account, key and endpoint from the same place.
        if not self.connection_string:
            return
        parts = dict(
            part.split("=", 1) for part in self.connection_string.split(";") if "=" in part
        )
        for name, key in (
            ("account_name", "AccountName"),
            ("account_key", "AccountKey"),
            ("sas_token", "SharedAccessSignature"),
            ("endpoint_url", "BlobEndpoint"),
        ):
            if not getattr(self, name) and parts.get(key):
                object.__setattr__(self, name, parts[key])

    def account_of(self, source: SourceURI) -> str:
        """The one storage account both the listing and Spark use: the URI's, which a
        credential naming another account may not override."""
        if source.account and self.account_name and source.account != self.account_name:
            raise CredentialNotFound(
                f"credential {self.reference} is for the storage account {self.account_name!r}, "
                f"but the source names {source.account!r}"
            )
        account = source.account or self.account_name
        if not account:
            raise CredentialNotFound(
                f"{source.root}: no storage account: name it in the URI "
                "(container@account.dfs.core.windows.net) or as the credential's account_name"
            )
        return account

    def fsspec_options(self) -> dict[str, Any]:
        if self.connection_string:
            return {"connection_string": self.connection_string}
        options: dict[str, Any] = {"account_name": self.account_name}
        if self.account_key:
            options["account_key"] = self.account_key
        if self.sas_token:
            options["sas_token"] = self.sas_token
        if self.endpoint_url:
            options["account_host"] = self.endpoint_url
        if self.is_default:
            options["anon"] = False
        return options

    def spark_settings(self, source: SourceURI) -> dict[str, str]:
        host = f"{self.account_of(source)}.dfs.core.windows.net"
        settings = {_NO_FS_CACHE.format(scheme=s): "true" for s in ("abfs", "abfss")}
        if self.account_key:
            settings[f"fs.azure.account.auth.type.{host}"] = "SharedKey"
            settings[f"fs.azure.account.key.{host}"] = self.account_key
        elif self.sas_token:
            settings[f"fs.azure.account.auth.type.{host}"] = "SAS"
            settings[f"fs.azure.sas.fixed.token.{host}"] = self.sas_token.lstrip("?")
        else:
            raise SparkAccessRefused(
                f"credential {self.reference}: Spark needs an account key or a SAS token "
                "to read this source"
            )
        if self.endpoint_url:
            settings.update(self._endpoint_settings(self.endpoint_url))
        return settings

    def _endpoint_settings(self, endpoint_url: str) -> dict[str, str]:
        """An endpoint of its own (Azurite): ABFS's endpoint hook sends each request to its
        host:port with the account as the path's first segment, through the Blob API (Azurite
        has no DFS API); over plain http the non-TLS ABFS class serves abfss:// paths."""
        parts = urlsplit(endpoint_url)
        if not parts.hostname or "." not in parts.hostname or not parts.port:
            raise SparkAccessRefused(
                f"credential {self.reference}: Spark's Azure driver takes an endpoint as "
                f"an IP address or dotted host name with a port, not {endpoint_url!r}"
            )
        settings = {
            "fs.azure.abfs.endpoint": f"{parts.hostname}:{parts.port}",
            "fs.azure.fns.account.service.type": "BLOB",
            "fs.azure.account.hns.enabled": "false",
        }
        if parts.scheme == "http":
            settings["fs.azure.always.use.https"] = "false"
            settings["fs.abfss.impl"] = "org.apache.hadoop.fs.azurebfs.AzureBlobFileSystem"
        return settings


@dataclass(frozen=True, repr=False)
class GcsConnection(Connection):
    kind: ClassVar[StoreKind] = StoreKind.GCS
    service_account_file: str | None = None
    project: str | None = None
    anonymous: bool = False

    @property
    def is_anonymous(self) -> bool:
        return self.reference == "anonymous" or self.anonymous

    def fsspec_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.is_anonymous:
            options["token"] = "anon"
        elif self.service_account_file:
            options["token"] = self.service_account_file
        else:
            options["token"] = "google_default"
        if self.project:
            options["project"] = self.project
        if self.endpoint_url:
            options["endpoint_url"] = self.endpoint_url
        return options

    def spark_settings(self, source: SourceURI) -> dict[str, str]:
        if not self.is_anonymous:
            raise SparkAccessRefused(
                f"credential {self.reference}: a service-account key file is on the worker, "
                "not on Spark's machines; bind the cluster's own identity to this source "
                "instead (AUTOLOADER_CLUSTER_IDENTITIES) and name the credential default"
            )
        settings = {
            _NO_FS_CACHE.format(scheme="gs"): "true",
            # The connector's shaded jar registers no FileSystem service: named here, a
            # cluster needs only the jar.
            "fs.gs.impl": "com.google.cloud.hadoop.fs.gcs.GoogleHadoopFileSystem",
            "fs.gs.auth.type": "UNAUTHENTICATED",
        }
        if self.endpoint_url:
            settings["fs.gs.storage.root.url"] = self.endpoint_url.rstrip("/") + "/"
        if self.project:
            settings["fs.gs.project.id"] = self.project
        return settings


CONNECTIONS: dict[StoreKind, type[Connection]] = {
    StoreKind.S3: S3Connection,
    StoreKind.AZURE: AzureConnection,
    StoreKind.GCS: GcsConnection,
    StoreKind.LOCAL: Connection,
}
# The fields a reference may set, per store (endpoint_url last, as the README lists them).
FIELDS: dict[StoreKind, tuple[str, ...]] = {
    kind: tuple(
        sorted(
            (f.name for f in dataclasses.fields(cls) if f.name != "reference"),
            key=lambda name: name == "endpoint_url",
        )
    )
    for kind, cls in CONNECTIONS.items()
    if kind is not StoreKind.LOCAL
} | {StoreKind.LOCAL: ()}
_FLAGS = {"anonymous"}


def resolve(
    reference: str | None,
    kind: StoreKind,
    environ: Mapping[str, str] | None = None,
) -> Connection:
    """Turns a credential reference into connection settings for a store of `kind`."""
    reference = (reference or "default").strip()
    environ = os.environ if environ is None else environ
    if kind is StoreKind.LOCAL or reference in ("default", "anonymous"):
        return CONNECTIONS[kind](reference=reference)
    scheme, _, target = reference.partition(":")
    if scheme == "env" and target:
        values = _from_environment(target, kind, environ)
    elif scheme == "file" and target:
        values = _from_file(Path(target), kind, reference)
    else:
        raise CredentialNotFound(
            f"credential {reference!r}: write default, anonymous, env:NAME or file:/path/to/secret.json"
        )
    typed: dict[str, Any] = {
        name: (value.strip().lower() == "true") if name in _FLAGS else value
        for name, value in values.items()
    }
    return CONNECTIONS[kind](reference=reference, **typed)


def _from_environment(name: str, kind: StoreKind, environ: Mapping[str, str]) -> dict[str, str]:
    names = {f"{name}_{field.upper()}": field for field in FIELDS[kind]}
    values = {field: environ[var] for var, field in names.items() if environ.get(var)}
    if not values:
        raise CredentialNotFound(
            f"credential env:{name} names nothing: none of {', '.join(names)} is set"
        )
    return values


def _from_file(path: Path, kind: StoreKind, reference: str) -> dict[str, str]:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError as error:
        raise CredentialNotFound(f"credential {reference}: no file at {path}") from error
    except (OSError, ValueError) as error:
        raise CredentialNotFound(
            f"credential {reference}: cannot read {path} as JSON ({type(error).__name__})"
        ) from error
    if not isinstance(document, dict):
        raise CredentialNotFound(f"credential {reference}: {path} must hold a JSON object")
    values = {f: str(document[f]) for f in FIELDS[kind] if document.get(f) not in (None, "")}
    if not values:
        raise CredentialNotFound(
            f"credential {reference}: {path} has none of the fields {', '.join(FIELDS[kind])}"
        )
    return values
