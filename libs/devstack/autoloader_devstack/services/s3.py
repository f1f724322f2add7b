"""The S3-compatible store: MinIO (built from source with Go), or moto's server when asked."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from autoloader_devstack import health, process, provision
from autoloader_devstack.context import StackContext
from autoloader_devstack.errors import SetupError
from autoloader_devstack.ports import HOST

REGION = "us-east-1"
WAREHOUSE_BUCKET = "warehouse"
LANDING_BUCKET = "landing"


def store_kind() -> str:
    kind = os.environ.get("AUTOLOADER_S3_STORE", "minio")
    if kind not in ("minio", "moto"):
        raise SetupError(f"AUTOLOADER_S3_STORE={kind!r}: choose 'minio' (default) or 'moto'.")
    return kind


def start(ctx: StackContext) -> None:
    kind = store_kind()
    folder = ctx.service_dir("s3")
    port = ctx.port("s3", 9000)
    endpoint = f"http://{HOST}:{port}"
    python = provision.stack_python()
    if kind == "minio":
        access_key = "autoloader"
        secret_key = secrets.token_urlsafe(24)
        console_port = ctx.port("s3-console", 9001)
        server = process.start(
            "s3 (minio)",
            [
                str(provision.minio_binary()),
                "server",
                str(folder / "data"),
                "--address",
                f"{HOST}:{port}",
                "--console-address",
                f"{HOST}:{console_port}",
            ],
            folder / "minio.log",
            env={
                **os.environ,
                "MINIO_ROOT_USER": access_key,
                "MINIO_ROOT_PASSWORD": secret_key,
                "MINIO_UPDATE": "off",
                "MINIO_CI_CD": "1",
            },
        )
        ready = f"{endpoint}/minio/health/live"
        ctx.settings["AUTOLOADER_S3_CONSOLE_URL"] = f"http://{HOST}:{console_port}"
    else:
        provision.ensure_moto(python)
        access_key, secret_key = "autoloader", "moto-accepts-any-secret"
        server = process.start(
            "s3 (moto)",
            [str(python.parent / "moto_server"), "-H", HOST, "-p", str(port)],
            folder / "moto.log",
        )
        ready = f"{endpoint}/moto-api/"
    ctx.processes.append(server)
    ctx.save()
    process.wait_until(server, lambda: health.http_ok(ready), 60, "S3 API health")
    _create_buckets(python, endpoint, access_key, secret_key)
    ctx.settings.update(
        {
            "AUTOLOADER_S3_STORE": kind,
            "AUTOLOADER_S3_ENDPOINT": endpoint,
            "AUTOLOADER_S3_ACCESS_KEY": access_key,
            "AUTOLOADER_S3_SECRET_KEY": secret_key,
            "AUTOLOADER_S3_REGION": REGION,
            "AUTOLOADER_WAREHOUSE": f"s3a://{WAREHOUSE_BUCKET}/",
            "AUTOLOADER_LANDING_BUCKET": LANDING_BUCKET,
        }
    )
    ctx.save()


def _create_buckets(python: Path, endpoint: str, access_key: str, secret_key: str) -> None:
    script = (
        "import boto3, sys\n"
        "s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name=sys.argv[2],"
        " aws_access_key_id=sys.argv[3], aws_secret_access_key=sys.argv[4])\n"
        "for bucket in sys.argv[5:]:\n"
        "    s3.create_bucket(Bucket=bucket)\n"
    )
    # Keys go through the environment-free argv of a short-lived child, never into a log.
    process.run(
        [
            str(python),
            "-c",
            script,
            endpoint,
            REGION,
            access_key,
            secret_key,
            WAREHOUSE_BUCKET,
            LANDING_BUCKET,
        ],
        "creating the S3 buckets",
    )
