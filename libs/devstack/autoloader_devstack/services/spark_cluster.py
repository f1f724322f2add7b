"""A real Spark standalone cluster from the same pyspark package: a master, two workers (one
core each) and a Spark Connect server whose executors run in the workers' JVMs, not its own.

Settings given to one session or one read behave differently once executors are other
processes (they travel with each task), so the loading and identity tests run here as well as
on `local[*]`. The cluster is named `standalone` in AUTOLOADER_SPARK_CLUSTERS: an ingestion
with `cluster: standalone` runs on it."""

from __future__ import annotations

import json

from autoloader_devstack import health, process, provision
from autoloader_devstack.context import StackContext
from autoloader_devstack.ports import HOST
from autoloader_devstack.services.spark import spark_environment, start_connect_server

CLUSTER_NAME = "standalone"
WORKERS = 2
WORKER_MEMORY = "1536m"
EXECUTOR_MEMORY = "1g"


def start(ctx: StackContext) -> None:
    spark_home = provision.spark_home(provision.stack_python())
    folder = ctx.service_dir("spark-cluster")
    master_port = ctx.port("spark-master", 7077)
    master_url = f"spark://{HOST}:{master_port}"
    env = spark_environment(spark_home, folder)
    spark_class = str(spark_home / "bin" / "spark-class")
    master = process.start(
        "spark-master",
        [
            spark_class,
            "org.apache.spark.deploy.master.Master",
            "--host",
            HOST,
            "--port",
            str(master_port),
            "--webui-port",
            str(ctx.port("spark-master-ui", 8080)),
        ],
        folder / "master.log",
        env=env,
    )
    ctx.processes.append(master)
    ctx.save()
    process.wait_until(master, lambda: health.tcp_open(master_port), 120, "master port open")
    for n in range(1, WORKERS + 1):
        worker_dir = folder / f"worker-{n}"
        worker_dir.mkdir(exist_ok=True)
        worker = process.start(
            f"spark-worker-{n}",
            [
                spark_class,
                "org.apache.spark.deploy.worker.Worker",
                master_url,
                "--host",
                HOST,
                "--cores",
                "1",
                "--memory",
                WORKER_MEMORY,
                "--work-dir",
                str(worker_dir),
                "--webui-port",
                str(ctx.port(f"spark-worker-{n}-ui", 8080 + n)),
            ],
            folder / f"worker-{n}.log",
            env=env,
        )
        ctx.processes.append(worker)
        ctx.save()
    port, ui_port = ctx.port("spark-cluster", 15012), ctx.port("spark-cluster-ui", 4050)
    start_connect_server(
        ctx,
        "spark-cluster-connect",
        folder,
        port,
        ui_port,
        {
            "spark.master": master_url,
            "spark.driver.memory": "1g",
            "spark.executor.memory": EXECUTOR_MEMORY,
            "spark.executor.cores": "1",
            "spark.cores.max": str(WORKERS),
            # Each executor fetches the server's --jars from the driver at start.
            "spark.driver.host": HOST,
        },
    )
    remote = f"sc://{HOST}:{port}"
    clusters = json.loads(ctx.settings.get("AUTOLOADER_SPARK_CLUSTERS", "{}"))
    ctx.settings.update(
        {
            "AUTOLOADER_SPARK_CLUSTER_REMOTE": remote,
            "AUTOLOADER_SPARK_CLUSTER_UI_URL": f"http://{HOST}:{ui_port}",
            "AUTOLOADER_SPARK_CLUSTER_LOG": str(folder / "spark-cluster-connect.log"),
            "AUTOLOADER_SPARK_CLUSTERS": json.dumps({**clusters, CLUSTER_NAME: remote}),
        }
    )
    ctx.save()
