"""An Autoloader worker from its PEX, after the demo's `prepare` (schema, admin key, work
pool). The demo ingestion itself runs once the API is up (services/api.py)."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from autoloader_devstack import health, process
from autoloader_devstack.context import StackContext
from autoloader_devstack.errors import SetupError
from autoloader_devstack.ports import HOST

PEX_SETTING = "AUTOLOADER_WORKER_PEX"
DEMO_CREDENTIAL = "AUTOLOADER_DEMO_S3"
ADMIN_KEY = "AUTOLOADER_ADMIN_API_KEY"


def worker_pex(ctx: StackContext) -> Path:
    given = ctx.settings.get(PEX_SETTING, "")
    pex = Path(given)
    if not given or not pex.is_file():
        raise SetupError(
            f"The worker needs its PEX ({given or 'none given'}); "
            "build it with `./pants package components/worker:worker`."
        )
    return pex


def admin_key(ctx: StackContext) -> str:
    """The dev stack's first admin API key: made once, kept in the stack's env file."""
    if ADMIN_KEY not in ctx.settings:
        ctx.settings[ADMIN_KEY] = f"al_{secrets.token_hex(6)}_{secrets.token_urlsafe(32)}"
        ctx.save()
    return ctx.settings[ADMIN_KEY]


def demo_environment(ctx: StackContext) -> dict[str, str]:
    """The stack's settings, and the demo's S3 credential, for the worker, API and demo."""
    return {
        **os.environ,
        **ctx.settings,
        # The demo ingestion's credential reference (env:AUTOLOADER_DEMO_S3) points here.
        f"{DEMO_CREDENTIAL}_ACCESS_KEY_ID": ctx.settings["AUTOLOADER_S3_ACCESS_KEY"],
        f"{DEMO_CREDENTIAL}_SECRET_ACCESS_KEY": ctx.settings["AUTOLOADER_S3_SECRET_KEY"],
        f"{DEMO_CREDENTIAL}_ENDPOINT_URL": ctx.settings["AUTOLOADER_S3_ENDPOINT"],
        f"{DEMO_CREDENTIAL}_REGION": ctx.settings["AUTOLOADER_S3_REGION"],
        "PREFECT_HOME": str(ctx.service_dir("worker") / "prefect-home"),
        ADMIN_KEY: admin_key(ctx),
    }


def start(ctx: StackContext) -> None:
    pex = worker_pex(ctx)
    env = demo_environment(ctx)
    python = sys.executable
    print(
        process.run(
            [python, str(pex), "prepare"],
            "preparing the metadata store and the work pool",
            env={**env, "PEX_MODULE": "autoloader_worker.demo"},
            timeout=300,
        ).strip(),
        flush=True,
    )
    port = ctx.port("worker-metrics", 9090)
    worker = process.start(
        "worker",
        [python, str(pex), "--metrics-port", str(port), "--name", "dev-worker"],
        ctx.service_dir("worker") / "worker.log",
        env=env,
    )
    ctx.processes.append(worker)
    ctx.save()
    metrics = f"http://{HOST}:{port}/metrics"
    process.wait_until(worker, lambda: health.http_ok(metrics), 120, "its metrics endpoint")
    ctx.settings["AUTOLOADER_WORKER_METRICS_URL"] = metrics
    ctx.save()
