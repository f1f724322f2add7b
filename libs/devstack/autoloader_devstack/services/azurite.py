"""Azurite: the Azure Blob Storage emulator, for adlfs-based discovery."""

from __future__ import annotations

import os

from autoloader_devstack import health, process, provision
from autoloader_devstack.context import StackContext
from autoloader_devstack.ports import HOST

# Azurite's fixed, publicly documented development account (not a secret).
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


def start(ctx: StackContext) -> None:
    folder = ctx.service_dir("azurite")
    port = ctx.port("azurite", 10000)
    server = process.start(
        "azurite",
        [
            str(provision.azurite_binary()),
            "--blobHost",
            HOST,
            "--blobPort",
            str(port),
            "--location",
            str(folder / "data"),
            "--skipApiVersionCheck",
            "--disableTelemetry",
            "--loose",
        ],
        folder / "azurite.log",
        env=dict(os.environ),
    )
    ctx.processes.append(server)
    ctx.save()
    endpoint = f"http://{HOST}:{port}/{ACCOUNT}"
    process.wait_until(
        server, lambda: health.http_answers(f"{endpoint}?comp=list"), 60, "Blob API answering"
    )
    ctx.settings.update(
        {
            "AUTOLOADER_AZURE_ACCOUNT_NAME": ACCOUNT,
            "AUTOLOADER_AZURE_ACCOUNT_KEY": ACCOUNT_KEY,
            "AUTOLOADER_AZURE_BLOB_ENDPOINT": endpoint,
            "AUTOLOADER_AZURE_CONNECTION_STRING": (
                f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};"
                f"AccountKey={ACCOUNT_KEY};BlobEndpoint={endpoint};"
            ),
        }
    )
    ctx.save()
