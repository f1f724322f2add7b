"""Entry point of the worker PEX: starts a Prefect worker on Autoloader's work pool."""

from __future__ import annotations

import argparse
import os
import sys

from autoloader_core.settings import get_settings

# Poll often: a manual trigger should reach RUNNING within a few seconds, not Prefect's default 10.
DEFAULT_QUERY_SECONDS = "1"


def build_command(pool: str, queues: list[str], limit: int | None, name: str | None) -> list[str]:
    command = ["worker", "start", "--pool", pool, "--type", "process"]
    for queue in queues:
        command += ["--work-queue", queue]
    if limit is not None:
        command += ["--limit", str(limit)]
    if name:
        command += ["--name", name]
    return command


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(
        prog="autoloader-worker",
        description="Run a Prefect worker that executes Autoloader flow runs.",
    )
    parser.add_argument("--pool", default=settings.work_pool, help="Prefect work pool")
    parser.add_argument(
        "--queue",
        action="append",
        default=[],
        dest="queues",
        help="work queue to pull from (repeatable; default: every queue)",
    )
    parser.add_argument(
        "--limit",
        type=int,
        default=None,
        help="runs at once (1 = single-task worker; default: no limit)",
    )
    parser.add_argument("--name", default=None, help="worker name shown in Prefect")
    args = parser.parse_args(argv)

    os.environ.setdefault("PREFECT_API_URL", settings.prefect_api_url)
    os.environ.setdefault("PREFECT_WORKER_QUERY_SECONDS", DEFAULT_QUERY_SECONDS)
    # Replace this process with Prefect's CLI, so a supervisor's signals reach the worker itself.
    command = build_command(args.pool, args.queues, args.limit, args.name)
    os.execv(sys.executable, [sys.executable, "-m", "prefect", *command])


if __name__ == "__main__":
    main()
