"""`python -m autoloader_devstack up|down|status|provision`: what `./dev` calls."""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import time
from pathlib import Path

from autoloader_devstack import provision, report, stack
from autoloader_devstack.context import ENV_FILE, load_state
from autoloader_devstack.errors import SetupError
from autoloader_devstack.services import s3

DEFAULT_ROOT = Path(".dev")

URL_SETTINGS = (
    ("Prefect UI", "AUTOLOADER_PREFECT_UI_URL"),
    ("Prefect API", "PREFECT_API_URL"),
    ("PostgreSQL", "AUTOLOADER_DATABASE_URL"),
    ("S3 endpoint", "AUTOLOADER_S3_ENDPOINT"),
    ("S3 console", "AUTOLOADER_S3_CONSOLE_URL"),
    ("Spark Connect", "AUTOLOADER_SPARK_REMOTE"),
    ("Spark UI", "AUTOLOADER_SPARK_UI_URL"),
    ("Spark cluster Connect", "AUTOLOADER_SPARK_CLUSTER_REMOTE"),
    ("Spark cluster UI", "AUTOLOADER_SPARK_CLUSTER_UI_URL"),
    ("Azure Blob (Azurite)", "AUTOLOADER_AZURE_BLOB_ENDPOINT"),
    ("GCS emulator", "AUTOLOADER_GCS_ENDPOINT"),
    ("Worker metrics", "AUTOLOADER_WORKER_METRICS_URL"),
    ("Autoloader API", "AUTOLOADER_API_URL"),
    ("Web console", "AUTOLOADER_CONSOLE_URL"),
)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except SetupError as error:
        print(f"\n{error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="./dev", description="Autoloader's local dev stack.")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="the stack's state folder")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    up = commands.add_parser("up", help="start the services and print their addresses")
    up.add_argument(
        "--detach",
        action="store_true",
        help="return once healthy, leaving the stack running (stop with `down`)",
    )
    up.add_argument(
        "--free-ports",
        action="store_true",
        help="use any free loopback ports instead of the usual ones",
    )
    up.add_argument(
        "--services",
        default=",".join(stack.ALL),
        help=f"comma-separated subset of {', '.join(stack.ALL)} (dependencies added)",
    )
    up.add_argument(
        "--spark-cluster",
        action="store_true",
        help="also run Spark as a standalone cluster (a master, two workers, Spark Connect on "
        "them), named `standalone` in AUTOLOADER_SPARK_CLUSTERS",
    )
    up.add_argument(
        "--worker-pex",
        type=Path,
        default=None,
        help="also start a worker from this PEX and run the demo ingestion",
    )
    up.add_argument(
        "--api-pex",
        type=Path,
        default=None,
        help="also start the API from this PEX (needs --worker-pex); the demo then runs through it",
    )
    up.set_defaults(handler=_up)

    down = commands.add_parser("down", help="stop the stack started by `up`")
    down.set_defaults(handler=_down)

    status = commands.add_parser("status", help="list the stack's running services")
    status.set_defaults(handler=_status)

    prov = commands.add_parser("provision", help="install what the stack needs, once")
    prov.set_defaults(handler=_provision)

    summary = commands.add_parser("report", help="sum JUnit reports into one closing line")
    summary.add_argument("reports", type=Path, help="folder of JUnit XML files")
    summary.set_defaults(handler=_report)
    return parser


def _report(args: argparse.Namespace) -> int:
    totals = report.summarize(args.reports)
    print(totals.line())
    return 0 if totals.passed and not totals.failed else 1


def _up(args: argparse.Namespace) -> int:
    root: Path = args.root
    if stack.running(root):
        raise SetupError(f"The dev stack in {root} is already running; `./dev down` stops it.")
    names = [name.strip() for name in args.services.split(",") if name.strip()]
    given: dict[str, str] = {}
    if args.spark_cluster:
        names.append("spark-cluster")
    if args.worker_pex is not None:
        names.append("worker")
        given["AUTOLOADER_WORKER_PEX"] = str(args.worker_pex.resolve())
    if args.api_pex is not None:
        names.append("api")
        given["AUTOLOADER_API_PEX"] = str(args.api_pex.resolve())
    if root.exists():
        shutil.rmtree(root)
    started = time.monotonic()
    print(f"Starting {', '.join(stack.with_dependencies(names))}...", flush=True)
    settings = stack.start(root.resolve(), names, use_free_ports=args.free_ports, given=given)
    print(f"\nDev stack up in {time.monotonic() - started:.0f} s:")
    for label, key in URL_SETTINGS:
        if key in settings:
            print(f"  {label:22} {_redact(settings[key])}")
    print(f"\nConnection settings (with the generated passwords): {root / ENV_FILE}")
    print("Logs: one folder per service under", root)
    if args.detach:
        print("Stop it with: ./dev down")
        return 0
    return _stay_in_foreground(root)


def _stay_in_foreground(root: Path) -> int:
    print("Press Ctrl-C to stop.", flush=True)
    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    status = 0
    processes, _ = load_state(root)
    while not stopping:
        dead = [p for p in processes if not p.is_running()]
        if dead:
            for managed in dead:
                print(
                    f"\n{managed.name} stopped unexpectedly; last lines of {managed.log_path}:\n"
                    f"{managed.log_tail()}",
                    file=sys.stderr,
                )
            status = 1
            break
        time.sleep(1)
    print("\nStopping the dev stack...", flush=True)
    stack.stop(root)
    return status


def _down(args: argparse.Namespace) -> int:
    stopped = stack.stop(args.root)
    print(f"Stopped {', '.join(stopped)}." if stopped else "No dev stack was running.")
    return 0


def _status(args: argparse.Namespace) -> int:
    names = stack.running(args.root)
    print("Running: " + ", ".join(names) if names else "The dev stack is not running.")
    return 0 if names else 1


def _provision(args: argparse.Namespace) -> int:
    """Everything the full stack needs, so a later `up` only starts processes."""
    provision.postgres_bin()
    provision.java_home()
    python = provision.stack_python()
    provision.spark_jars(provision.spark_home(python))
    if s3.store_kind() == "minio":
        provision.minio_binary()
    else:
        provision.ensure_moto(python)
    provision.azurite_binary()
    provision.chromium()
    print(
        "Provisioned: PostgreSQL, Java, the stack venv, Spark jars, the S3 store, Azurite, "
        "Chromium."
    )
    return 0


def _redact(value: str) -> str:
    """Hides a password inside a URL (user:password@host) when printing it."""
    if "://" in value and "@" in value:
        scheme, rest = value.split("://", 1)
        credentials, host = rest.split("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return value
