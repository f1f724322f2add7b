"""Spark Connect server from the pyspark package, with Iceberg (JDBC catalog) and S3A."""

from __future__ import annotations

import os
from pathlib import Path

from autoloader_devstack import health, process, provision
from autoloader_devstack.context import StackContext, write_private
from autoloader_devstack.ports import HOST

CATALOG = "lake"
SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
WARM_UP = """
import sys
from pyspark.sql import SparkSession
session = SparkSession.builder.remote(sys.argv[1]).create()
session.sql(f"SHOW NAMESPACES IN {sys.argv[2]}").collect()
session.stop()
"""


def start(ctx: StackContext) -> None:
    """Spark Connect on `local[*]`: the driver runs the executors' work in its own JVM."""
    folder = ctx.service_dir("spark")
    port, ui_port = ctx.port("spark", 15002), ctx.port("spark-ui", 4040)
    start_connect_server(ctx, "spark-connect", folder, port, ui_port, {"spark.master": "local[*]"})
    ctx.settings.update(
        {
            "AUTOLOADER_SPARK_REMOTE": f"sc://{HOST}:{port}",
            "AUTOLOADER_SPARK_UI_URL": f"http://{HOST}:{ui_port}",
            "AUTOLOADER_SPARK_LOG": str(folder / "spark-connect.log"),
            "AUTOLOADER_ICEBERG_CATALOG": CATALOG,
        }
    )
    ctx.save()


def start_connect_server(
    ctx: StackContext,
    name: str,
    folder: Path,
    port: int,
    ui_port: int,
    extra: dict[str, str],
) -> None:
    """A Spark Connect server with the stack's catalog and S3 settings (and `extra`), started
    and answering a first real query."""
    python = provision.stack_python()
    spark_home = provision.spark_home(python)
    jars = provision.spark_jars(spark_home)
    properties = folder / "spark-defaults.conf"
    # Credentials go in a private properties file, not on the command line where `ps` shows them.
    write_private(properties, _properties(ctx, folder, port, ui_port, extra))
    server = process.start(
        name,
        [
            str(spark_home / "bin" / "spark-submit"),
            "--class",
            SERVER_CLASS,
            "--name",
            f"autoloader-{name}",
            "--properties-file",
            str(properties),
            "--jars",
            ",".join(str(jar) for jar in jars),
            "spark-internal",
        ],
        folder / f"{name}.log",
        env=spark_environment(spark_home, folder),
    )
    ctx.processes.append(server)
    ctx.save()
    process.wait_until(server, lambda: health.tcp_open(port), 180, "gRPC port open")
    # The first query creates the Iceberg JDBC catalog's tables in PostgreSQL. Done here, once,
    # it cannot race with the first queries of several clients at once (which fails their
    # catalog initialisation); it also proves the server answers real queries.
    process.run(
        [str(python), "-c", WARM_UP, f"sc://{HOST}:{port}", CATALOG],
        f"the {name} warm-up query",
        timeout=180,
    )


def spark_environment(spark_home: Path, folder: Path) -> dict[str, str]:
    conf_dir = folder / "conf"
    conf_dir.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "JAVA_HOME": provision.java_home(),
        "SPARK_HOME": str(spark_home),
        "SPARK_CONF_DIR": str(conf_dir),
        "SPARK_LOG_DIR": str(folder),
        "SPARK_LOCAL_IP": HOST,
    }


def _properties(
    ctx: StackContext, folder: Path, port: int, ui_port: int, extra: dict[str, str]
) -> str:
    settings = ctx.settings
    catalog = f"spark.sql.catalog.{CATALOG}"
    values = {
        "spark.driver.memory": os.environ.get("AUTOLOADER_SPARK_DRIVER_MEMORY", "2g"),
        "spark.connect.grpc.binding.address": HOST,
        "spark.connect.grpc.binding.port": str(port),
        # The UI is on (its environment page and REST API are where a leaked secret would show).
        "spark.ui.enabled": "true",
        "spark.ui.port": str(ui_port),
        "spark.ui.showConsoleProgress": "false",
        "spark.local.dir": str(folder / "tmp"),
        "spark.sql.shuffle.partitions": "4",
        "spark.sql.extensions": "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions",
        catalog: "org.apache.iceberg.spark.SparkCatalog",
        f"{catalog}.catalog-impl": "org.apache.iceberg.jdbc.JdbcCatalog",
        f"{catalog}.uri": (
            f"jdbc:postgresql://{settings['AUTOLOADER_PG_HOST']}:{settings['AUTOLOADER_PG_PORT']}"
            "/iceberg"
        ),
        f"{catalog}.jdbc.user": settings["AUTOLOADER_PG_USER"],
        f"{catalog}.jdbc.password": settings["AUTOLOADER_PG_PASSWORD"],
        f"{catalog}.jdbc.schema-version": "V1",
        f"{catalog}.warehouse": settings["AUTOLOADER_WAREHOUSE"],
        "spark.hadoop.fs.s3a.impl": "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "spark.hadoop.fs.s3a.endpoint": settings["AUTOLOADER_S3_ENDPOINT"],
        "spark.hadoop.fs.s3a.endpoint.region": settings["AUTOLOADER_S3_REGION"],
        "spark.hadoop.fs.s3a.path.style.access": "true",
        "spark.hadoop.fs.s3a.connection.ssl.enabled": "false",
        "spark.hadoop.fs.s3a.access.key": settings["AUTOLOADER_S3_ACCESS_KEY"],
        "spark.hadoop.fs.s3a.secret.key": settings["AUTOLOADER_S3_SECRET_KEY"],
        "spark.hadoop.fs.s3a.aws.credentials.provider": (
            "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider"
        ),
    }
    return "".join(f"{key} {value}\n" for key, value in {**values, **extra}.items())
