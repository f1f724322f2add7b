"""The GCS emulator (gcp-storage-emulator from PyPI), for gcsfs-based discovery."""

from __future__ import annotations

import os

from autoloader_devstack import health, process, provision
from autoloader_devstack.context import StackContext
from autoloader_devstack.ports import HOST


def start(ctx: StackContext) -> None:
    python = provision.stack_python()
    folder = ctx.service_dir("gcs")
    port = ctx.port("gcs", 9023)
    server = process.start(
        "gcs",
        [
            str(python.parent / "gcp-storage-emulator"),
            "start",
            f"--host={HOST}",
            f"--port={port}",
            "--in-memory",
        ],
        folder / "gcs.log",
        env=dict(os.environ),
    )
    ctx.processes.append(server)
    ctx.save()
    endpoint = f"http://{HOST}:{port}"
    process.wait_until(
        server,
        lambda: health.http_answers(f"{endpoint}/storage/v1/b?project=dev"),
        60,
        "JSON API answering",
    )
    ctx.settings.update({"AUTOLOADER_GCS_ENDPOINT": endpoint, "AUTOLOADER_GCS_PROJECT": "dev"})
    ctx.save()
