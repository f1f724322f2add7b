"""PostgreSQL 15+: the metadata store, Prefect's database and the Iceberg JDBC catalog."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import subprocess
from pathlib import Path

from autoloader_devstack import process, provision
from autoloader_devstack.context import StackContext
from autoloader_devstack.errors import SetupError
from autoloader_devstack.ports import HOST

USER = "autoloader"
DATABASES = ("autoloader", "prefect", "iceberg")


def start(ctx: StackContext) -> None:
    bin_dir = provision.postgres_bin()
    folder = ctx.service_dir("postgres")
    port = ctx.port("postgres", 55432)
    password = secrets.token_urlsafe(18)
    run_as = _run_as_prefix(folder)

    data = folder / "data"
    password_file = folder / "pwfile"
    password_file.write_text(password + "\n")
    _chown_for(run_as, folder, password_file)
    process.run(
        [
            *run_as,
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            USER,
            "-E",
            "UTF8",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            f"--pwfile={password_file}",
        ],
        "initdb",
    )
    password_file.unlink()

    server = process.start(
        "postgres",
        [
            *run_as,
            str(bin_dir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-c",
            f"listen_addresses={HOST}",
            "-c",
            f"unix_socket_directories={folder}",
            "-c",
            "max_connections=300",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
        ],
        folder / "postgres.log",
        # SIGINT is PostgreSQL's fast shutdown; SIGTERM would wait for every client to leave.
        stop_signal=signal.SIGINT,
    )
    ctx.processes.append(server)
    ctx.save()
    pg_isready = str(bin_dir / "pg_isready")
    process.wait_until(
        server,
        lambda: _succeeds([pg_isready, "-q", "-h", HOST, "-p", str(port)]),
        timeout=60,
        what="accepting connections",
    )
    env = {**os.environ, "PGPASSWORD": password}
    psql = shutil.which("psql") or str(bin_dir / "psql")
    for database in DATABASES:
        process.run(
            [
                psql,
                "-h",
                HOST,
                "-p",
                str(port),
                "-U",
                USER,
                "-d",
                "postgres",
                "-q",
                "-c",
                f'CREATE DATABASE "{database}"',
            ],
            f"creating database {database}",
            env=env,
        )

    ctx.settings.update(
        {
            "AUTOLOADER_PG_HOST": HOST,
            "AUTOLOADER_PG_PORT": str(port),
            "AUTOLOADER_PG_USER": USER,
            "AUTOLOADER_PG_PASSWORD": password,
            "AUTOLOADER_DATABASE_URL": url("autoloader", port, password),
        }
    )
    ctx.save()


def url(database: str, port: int, password: str, driver: str = "psycopg") -> str:
    return f"postgresql+{driver}://{USER}:{password}@{HOST}:{port}/{database}"


def _run_as_prefix(folder: Path) -> list[str]:
    """PostgreSQL refuses to run as root: as root, run it as the `postgres` system user."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError as error:
        raise SetupError(
            "Running as root, PostgreSQL needs the `postgres` system user to run as; "
            "`apt-get install postgresql` creates it."
        ) from error
    runuser = shutil.which("runuser")
    if runuser is None:
        raise SetupError("Running as root needs `runuser` (util-linux) to start PostgreSQL.")
    # Every parent must be traversable by that user.
    for parent in [folder, *folder.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)
    return [runuser, "-u", "postgres", "--"]


def _chown_for(run_as: list[str], *paths: Path) -> None:
    if not run_as:
        return
    user = pwd.getpwnam("postgres")
    for path in paths:
        os.chown(path, user.pw_uid, user.pw_gid)


def _succeeds(command: list[str]) -> bool:
    return subprocess.run(command, capture_output=True, check=False).returncode == 0
