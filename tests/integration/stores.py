"""One place per object store of the dev stack, seeded the same way, for cross-store tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support import s3_options

from autoloader_storage.filesystems import filesystem_for

KINDS = ("s3", "azure", "gcs", "local")
SERVICE = {"s3": "s3", "azure": "azurite", "gcs": "gcs", "local": None}


@dataclass
class Place:
    """A fresh, empty location in one store: how to write to it and how an ingestion names it."""

    kind: str
    uri: str
    credential_ref: str | None
    environ: dict[str, str]
    fs: Any
    root: str  # fsspec path of the location

    def put(self, files: Mapping[str, bytes]) -> None:
        self.fs.pipe({f"{self.root}/{key}": body for key, body in files.items()})

    def put_one(self, key: str, body: bytes) -> None:
        self.fs.pipe(f"{self.root}/{key}", body)


def new_place(kind: str, settings: dict[str, str], tmp: Path) -> Place:
    name = f"it-{uuid.uuid4().hex[:12]}"
    if kind == "s3":
        fs = filesystem_for("s3://", **s3_options(settings))
        bucket = settings["AUTOLOADER_LANDING_BUCKET"]
        environ = {
            "IT_S3_ACCESS_KEY_ID": settings["AUTOLOADER_S3_ACCESS_KEY"],
            "IT_S3_SECRET_ACCESS_KEY": settings["AUTOLOADER_S3_SECRET_KEY"],
            "IT_S3_ENDPOINT_URL": settings["AUTOLOADER_S3_ENDPOINT"],
            "IT_S3_REGION": settings["AUTOLOADER_S3_REGION"],
        }
        return Place(kind, f"s3://{bucket}/{name}", "env:IT_S3", environ, fs, f"{bucket}/{name}")
    if kind == "azure":
        connection = settings["AUTOLOADER_AZURE_CONNECTION_STRING"]
        fs = filesystem_for("abfs://", connection_string=connection)
        fs.mkdir(name)
        account = settings["AUTOLOADER_AZURE_ACCOUNT_NAME"]
        uri = f"abfss://{name}@{account}.dfs.core.windows.net/data"
        environ = {"IT_AZ_CONNECTION_STRING": connection}
        return Place(kind, uri, "env:IT_AZ", environ, fs, f"{name}/data")
    if kind == "gcs":
        os.environ["GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT"] = "false"
        endpoint, project = settings["AUTOLOADER_GCS_ENDPOINT"], settings["AUTOLOADER_GCS_PROJECT"]
        fs = filesystem_for("gs://", endpoint_url=endpoint, project=project, token="anon")
        fs.mkdir(name)
        environ = {
            "IT_GCS_ENDPOINT_URL": endpoint,
            "IT_GCS_PROJECT": project,
            "IT_GCS_ANONYMOUS": "true",
        }
        return Place(kind, f"gs://{name}/data", "env:IT_GCS", environ, fs, f"{name}/data")
    root = tmp / name
    root.mkdir()
    fs = filesystem_for("file://", auto_mkdir=True)
    return Place(kind, f"file://{root}", None, {}, fs, str(root))
