"""Prefect 3 server on the stack's PostgreSQL, with the `autoloader` process work pool."""

from __future__ import annotations

import os
import signal

from autoloader_devstack import health, process, provision
from autoloader_devstack.context import StackContext
from autoloader_devstack.ports import HOST
from autoloader_devstack.services import postgres

WORK_POOL = "autoloader"


def start(ctx: StackContext) -> None:
    python = provision.stack_python()
    prefect = str(python.parent / "prefect")
    folder = ctx.service_dir("prefect")
    port = ctx.port("prefect", 4200)
    database = postgres.url(
        "prefect",
        int(ctx.settings["AUTOLOADER_PG_PORT"]),
        ctx.settings["AUTOLOADER_PG_PASSWORD"],
        driver="asyncpg",
    )
    env = {
        **os.environ,
        "PREFECT_HOME": str(folder),
        "PREFECT_API_DATABASE_CONNECTION_URL": database,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_API_HOST": HOST,
        "PREFECT_SERVER_API_PORT": str(port),
    }
    env.pop("PREFECT_API_URL", None)
    server = process.start(
        "prefect",
        [prefect, "server", "start", "--host", HOST, "--port", str(port)],
        folder / "prefect.log",
        env=env,
        # Prefect's CLI shuts its server down cleanly on SIGINT.
        stop_signal=signal.SIGINT,
    )
    ctx.processes.append(server)
    ctx.save()
    api_url = f"http://{HOST}:{port}/api"
    process.wait_until(server, lambda: health.http_ok(f"{api_url}/health"), 120, "API health")

    client_env = {**os.environ, "PREFECT_API_URL": api_url, "PREFECT_HOME": str(folder / "client")}
    process.run(
        [prefect, "work-pool", "create", WORK_POOL, "--type", "process", "--overwrite"],
        "creating the Prefect work pool",
        env=client_env,
    )
    ctx.settings.update(
        {
            "PREFECT_API_URL": api_url,
            "AUTOLOADER_PREFECT_UI_URL": f"http://{HOST}:{port}",
            "AUTOLOADER_WORK_POOL": WORK_POOL,
        }
    )
    ctx.save()
