"""The same services from container images, for machines where a Docker engine answers.

Opt in with AUTOLOADER_TEST_CONTAINERS=1. PostgreSQL, MinIO, Azurite, the GCS emulator and the
Prefect server then run as containers (testcontainers); the Spark Connect server still runs as a
local process (no stock image carries Spark with Iceberg and these connectors). CI on these
machines has no Docker engine, so this path is not exercised there.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable

from sqlalchemy import create_engine, text

Stop = Callable[[], None]


def wanted() -> bool:
    return os.environ.get("AUTOLOADER_TEST_CONTAINERS") == "1"


def start(names: list[str], settings: dict[str, str]) -> list[Stop]:
    """Starts each container-able service in `names`, adding its settings; returns stoppers."""
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.waiting_utils import wait_for_logs

    stops: list[Stop] = []

    def run(container: DockerContainer, ready_log: str) -> DockerContainer:
        container.start()
        stops.append(container.stop)
        wait_for_logs(container, ready_log, timeout=120)
        return container

    if "postgres" in names:
        password = secrets.token_urlsafe(16)
        pg = run(
            DockerContainer("postgres:15")
            .with_env("POSTGRES_USER", "autoloader")
            .with_env("POSTGRES_PASSWORD", password)
            .with_exposed_ports(5432),
            "database system is ready to accept connections",
        )
        host, port = pg.get_container_host_ip(), pg.get_exposed_port(5432)
        url = f"postgresql+psycopg://autoloader:{password}@{host}:{port}/postgres"
        engine = create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            for database in ("autoloader", "prefect", "iceberg"):
                connection.execute(text(f'CREATE DATABASE "{database}"'))
        engine.dispose()
        settings.update(
            AUTOLOADER_PG_HOST=host,
            AUTOLOADER_PG_PORT=str(port),
            AUTOLOADER_PG_USER="autoloader",
            AUTOLOADER_PG_PASSWORD=password,
            AUTOLOADER_DATABASE_URL=url.replace("/postgres", "/autoloader"),
        )
    if "s3" in names:
        secret = secrets.token_urlsafe(16)
        minio = run(
            DockerContainer("minio/minio:latest")
            .with_command("server /data")
            .with_env("MINIO_ROOT_USER", "autoloader")
            .with_env("MINIO_ROOT_PASSWORD", secret)
            .with_exposed_ports(9000),
            "API:",
        )
        endpoint = f"http://{minio.get_container_host_ip()}:{minio.get_exposed_port(9000)}"
        settings.update(
            AUTOLOADER_S3_STORE="minio",
            AUTOLOADER_S3_ENDPOINT=endpoint,
            AUTOLOADER_S3_ACCESS_KEY="autoloader",
            AUTOLOADER_S3_SECRET_KEY=secret,
            AUTOLOADER_S3_REGION="us-east-1",
            AUTOLOADER_WAREHOUSE="s3a://warehouse/",
            AUTOLOADER_LANDING_BUCKET="landing",
        )
        _create_buckets(settings, ["warehouse", "landing"])
    if "azurite" in names:
        from autoloader_devstack.services.azurite import ACCOUNT, ACCOUNT_KEY

        azurite = run(
            DockerContainer("mcr.microsoft.com/azure-storage/azurite:latest")
            .with_command("azurite-blob --blobHost 0.0.0.0 --skipApiVersionCheck --loose")
            .with_exposed_ports(10000),
            "Azurite Blob service successfully listens",
        )
        endpoint = (
            f"http://{azurite.get_container_host_ip()}:{azurite.get_exposed_port(10000)}/{ACCOUNT}"
        )
        settings.update(
            AUTOLOADER_AZURE_ACCOUNT_NAME=ACCOUNT,
            AUTOLOADER_AZURE_ACCOUNT_KEY=ACCOUNT_KEY,
            AUTOLOADER_AZURE_BLOB_ENDPOINT=endpoint,
            AUTOLOADER_AZURE_CONNECTION_STRING=(
                f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
                f"BlobEndpoint={endpoint};"
            ),
        )
    if "gcs" in names:
        gcs = run(
            DockerContainer("fsouza/fake-gcs-server:latest")
            .with_command("-scheme http -port 4443")
            .with_exposed_ports(4443),
            "server started",
        )
        settings.update(
            AUTOLOADER_GCS_ENDPOINT=f"http://{gcs.get_container_host_ip()}:{gcs.get_exposed_port(4443)}",
            AUTOLOADER_GCS_PROJECT="dev",
        )
    if "prefect" in names:
        database = settings["AUTOLOADER_DATABASE_URL"].replace("+psycopg", "+asyncpg")
        database = database.rsplit("/", 1)[0] + "/prefect"
        prefect = run(
            DockerContainer("prefecthq/prefect:3-latest")
            .with_command("prefect server start --host 0.0.0.0")
            .with_env(
                "PREFECT_API_DATABASE_CONNECTION_URL",
                database.replace("localhost", "host.docker.internal"),
            )
            .with_kwargs(extra_hosts={"host.docker.internal": "host-gateway"})
            .with_exposed_ports(4200),
            "Uvicorn running",
        )
        settings.update(
            PREFECT_API_URL=f"http://{prefect.get_container_host_ip()}:{prefect.get_exposed_port(4200)}/api",
            AUTOLOADER_WORK_POOL="autoloader",
        )
    return stops


def _create_buckets(settings: dict[str, str], buckets: list[str]) -> None:
    from support import s3_options

    from autoloader_storage.filesystems import filesystem_for

    fs = filesystem_for("s3://", **s3_options(settings))
    for bucket in buckets:
        fs.mkdir(bucket)
