"""The Autoloader API from its PEX, then the demo ingestion driven through it: sample files in
the S3 store, an ingestion created and run over HTTP, its table queried back."""

from __future__ import annotations

import sys
from pathlib import Path

from autoloader_devstack import health, process
from autoloader_devstack.context import StackContext
from autoloader_devstack.errors import SetupError
from autoloader_devstack.ports import HOST
from autoloader_devstack.services.worker import demo_environment, worker_pex

PEX_SETTING = "AUTOLOADER_API_PEX"


def start(ctx: StackContext) -> None:
    given = ctx.settings.get(PEX_SETTING, "")
    pex = Path(given)
    if not given or not pex.is_file():
        raise SetupError(
            f"The API needs its PEX ({given or 'none given'}); "
            "build it with `./pants package components/api:api`."
        )
    port = ctx.port("api", 8000)
    url = f"http://{HOST}:{port}"
    env = {
        **demo_environment(ctx),
        "AUTOLOADER_API_PORT": str(port),
        "AUTOLOADER_API_URL": url,
        # Deployments link to the console; runs link to Prefect's UI.
        "AUTOLOADER_CONSOLE_URL": f"{url}/ui",
    }
    api = process.start(
        "api", [sys.executable, str(pex)], ctx.service_dir("api") / "api.log", env=env
    )
    ctx.processes.append(api)
    ctx.save()
    process.wait_until(api, lambda: health.http_ok(f"{url}/ready"), 120, "its /ready endpoint")
    ctx.settings["AUTOLOADER_API_URL"] = url
    ctx.settings["AUTOLOADER_CONSOLE_URL"] = f"{url}/ui"
    ctx.save()
    print(
        process.run(
            [sys.executable, str(worker_pex(ctx)), "run"],
            "the demo ingestion",
            env={**env, "PEX_MODULE": "autoloader_worker.demo"},
            timeout=600,
        ).rstrip(),
        flush=True,
    )
