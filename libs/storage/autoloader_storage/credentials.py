"""Credentials by reference: an ingestion names where its secrets are, never the secrets.

A reference is one of
  default            the platform's chain (IAM role, workload identity, ADC)
  anonymous          no credentials (public buckets, emulators)
  env:NAME           environment variables NAME_<FIELD>, e.g. NAME_ACCESS_KEY_ID
  file:/path.json    a mounted secret: a JSON object of the same fields, lowercase
The fields per store are listed in FIELDS; endpoint_url points at MinIO or an emulator.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autoloader_storage.errors import CredentialNotFound
from autoloader_storage.uri import StoreKind

FIELDS: dict[StoreKind, tuple[str, ...]] = {
    StoreKind.S3: (
        "access_key_id",
        "secret_access_key",
        "session_token",
        "endpoint_url",
        "region",
        "anonymous",
    ),
    StoreKind.AZURE: (
        "connection_string",
        "account_name",
        "account_key",
        "sas_token",
        "endpoint_url",
    ),
    StoreKind.GCS: ("service_account_file", "project", "endpoint_url", "anonymous"),
    StoreKind.LOCAL: (),
}
SECRET_FIELDS = {
    "secret_access_key",
    "session_token",
    "connection_string",
    "account_key",
    "sas_token",
}


@dataclass(frozen=True)
class Connection:
    """Resolved connection settings for one store; its repr never shows a secret."""

    kind: StoreKind
    reference: str
    values: Mapping[str, str] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        shown = {k: ("***" if k in SECRET_FIELDS else v) for k, v in self.values.items()}
        return f"Connection(kind={self.kind.value}, reference={self.reference!r}, values={shown})"

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def fsspec_options(self) -> dict[str, Any]:
        """Keyword arguments for the fsspec filesystem of this store."""
        v = self.values
        if self.kind is StoreKind.S3:
            anonymous = self.reference == "anonymous" or v.get("anonymous") == "true"
            options: dict[str, Any] = {"anon": anonymous}
            if "access_key_id" in v:
                options.update(key=v["access_key_id"], secret=v.get("secret_access_key"))
            if "session_token" in v:
                options["token"] = v["session_token"]
            client: dict[str, str] = {}
            if "endpoint_url" in v:
                client["endpoint_url"] = v["endpoint_url"]
            if "region" in v:
                client["region_name"] = v["region"]
            if client:
                options["client_kwargs"] = client
            return options
        if self.kind is StoreKind.AZURE:
            if "connection_string" in v:
                return {"connection_string": v["connection_string"]}
            options = {"account_name": v.get("account_name")}
            if "account_key" in v:
                options["account_key"] = v["account_key"]
            if "sas_token" in v:
                options["sas_token"] = v["sas_token"]
            if "endpoint_url" in v:
                options["account_host"] = v["endpoint_url"]
            if self.reference == "default":
                options["anon"] = False
            return options
        if self.kind is StoreKind.GCS:
            options = {}
            if self.reference == "anonymous" or v.get("anonymous") == "true":
                options["token"] = "anon"
            elif "service_account_file" in v:
                options["token"] = v["service_account_file"]
            else:
                options["token"] = "google_default"
            if "project" in v:
                options["project"] = v["project"]
            if "endpoint_url" in v:
                options["endpoint_url"] = v["endpoint_url"]
            return options
        return {}


def resolve(
    reference: str | None,
    kind: StoreKind,
    environ: Mapping[str, str] | None = None,
) -> Connection:
    """Turns a credential reference into connection settings for a store of `kind`."""
    reference = (reference or "default").strip()
    environ = os.environ if environ is None else environ
    if kind is StoreKind.LOCAL or reference in ("default", "anonymous"):
        return Connection(kind, reference)
    scheme, _, target = reference.partition(":")
    if scheme == "env" and target:
        values = _from_environment(target, kind, environ)
    elif scheme == "file" and target:
        values = _from_file(Path(target), kind, reference)
    else:
        raise CredentialNotFound(
            f"credential {reference!r}: write default, anonymous, env:NAME or file:/path/to/secret.json"
        )
    return Connection(kind, reference, values)


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
