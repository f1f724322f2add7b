"""Starting and stopping a set of services as one stack whose state lives in one folder."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from autoloader_devstack.context import STATE_FILE, StackContext, load_state
from autoloader_devstack.errors import SetupError
from autoloader_devstack.services import (
    api,
    azurite,
    gcs,
    postgres,
    prefect,
    s3,
    spark,
    spark_cluster,
    worker,
)

StartFunction = Callable[[StackContext], None]

# In start order; each service lists what it needs started before it.
SERVICES: dict[str, tuple[StartFunction, tuple[str, ...]]] = {
    "postgres": (postgres.start, ()),
    "prefect": (prefect.start, ("postgres",)),
    "s3": (s3.start, ()),
    "spark": (spark.start, ("postgres", "s3")),
    # A standalone master, two workers and a Connect server on them (`--spark-cluster`).
    "spark-cluster": (spark_cluster.start, ("postgres", "s3", "spark")),
    "azurite": (azurite.start, ()),
    "gcs": (gcs.start, ()),
    # Needs the worker PEX (AUTOLOADER_WORKER_PEX); `./dev up` builds it and asks for it.
    "worker": (worker.start, ("postgres", "prefect", "s3", "spark")),
    # Needs the API PEX (AUTOLOADER_API_PEX); runs the demo ingestion through the API.
    "api": (api.start, ("postgres", "prefect", "s3", "spark", "worker")),
}
# What a stack has unless asked for more: the services tests and benchmarks share.
ALL = tuple(name for name in SERVICES if name not in ("worker", "api", "spark-cluster"))
# The setting whose presence shows a service is already provided (by an env file or a stack).
PROVIDES = {
    "postgres": "AUTOLOADER_DATABASE_URL",
    "prefect": "PREFECT_API_URL",
    "s3": "AUTOLOADER_S3_ENDPOINT",
    "spark": "AUTOLOADER_SPARK_REMOTE",
    "spark-cluster": "AUTOLOADER_SPARK_CLUSTER_REMOTE",
    "azurite": "AUTOLOADER_AZURE_BLOB_ENDPOINT",
    "gcs": "AUTOLOADER_GCS_ENDPOINT",
    "worker": "AUTOLOADER_WORKER_METRICS_URL",
    "api": "AUTOLOADER_API_URL",
}


def with_dependencies(names: Iterable[str]) -> list[str]:
    wanted: set[str] = set()

    def add(name: str) -> None:
        if name not in SERVICES:
            raise SetupError(f"Unknown service {name!r}; known: {', '.join(SERVICES)}.")
        if name not in wanted:
            wanted.add(name)
            for dependency in SERVICES[name][1]:
                add(dependency)

    for name in names:
        add(name)
    return [name for name in SERVICES if name in wanted]


def missing(names: Iterable[str], settings: dict[str, str]) -> list[str]:
    """The services among `names` (and their dependencies) that `settings` does not provide."""
    return [name for name in with_dependencies(names) if PROVIDES[name] not in settings]


def start(
    root: Path,
    names: Iterable[str] = ALL,
    use_free_ports: bool = True,
    given: dict[str, str] | None = None,
) -> dict[str, str]:
    """Starts the services (and what they need) not already in `given`; returns all settings.

    On any failure, what was started is stopped again before the error propagates.
    """
    if (root / STATE_FILE).exists() and any(p.is_running() for p in load_state(root)[0]):
        raise SetupError(f"A stack is already running from {root}; stop it with `./dev down`.")
    root.mkdir(parents=True, exist_ok=True)
    ctx = StackContext(root=root, use_free_ports=use_free_ports, settings=dict(given or {}))
    try:
        for name in missing(names, ctx.settings):
            SERVICES[name][0](ctx)
    except BaseException:
        stop(root)
        raise
    return dict(ctx.settings)


def stop(root: Path) -> list[str]:
    """Stops every process the stack in `root` started, newest first; returns their names."""
    processes, _ = load_state(root)
    for managed in reversed(processes):
        managed.stop()
    state = root / STATE_FILE
    if state.exists():
        state.unlink()
    return [managed.name for managed in processes]


def running(root: Path) -> list[str]:
    processes, _ = load_state(root)
    return [managed.name for managed in processes if managed.is_running()]
