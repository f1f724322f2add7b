"""Spark Connect reads a CSV from s3a:// and appends it to an Iceberg table in the S3 warehouse."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from pyspark.sql import SparkSession
from support import StackFactory, s3_options

from autoloader_spark.session import connect
from autoloader_storage.filesystems import filesystem_for

ROWS = [(1, "alpha", 10.5), (2, "beta", 20.25), (3, "gamma", 30.0)]


@pytest.fixture(scope="module")
def settings(services: StackFactory) -> dict[str, str]:
    return services("spark")


@pytest.fixture(scope="module")
def spark(settings: dict[str, str]) -> Iterator[SparkSession]:
    session = connect(settings["AUTOLOADER_SPARK_REMOTE"])
    yield session
    session.stop()


def test_csv_from_s3a_is_appended_to_an_iceberg_table(
    spark: SparkSession, settings: dict[str, str]
) -> None:
    run = uuid.uuid4().hex[:10]
    key = f"{settings['AUTOLOADER_LANDING_BUCKET']}/it-{run}/orders.csv"
    body = "id,name,amount\n" + "".join(f"{i},{n},{a}\n" for i, n, a in ROWS)
    filesystem_for("s3://", **s3_options(settings)).pipe(key, body.encode())
    catalog = settings["AUTOLOADER_ICEBERG_CATALOG"]
    table = f"{catalog}.it_{run}.orders"
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {catalog}.it_{run}")
    spark.sql(f"CREATE TABLE {table} (id INT, name STRING, amount DOUBLE) USING iceberg")

    frame = (
        spark.read.option("header", True)
        .schema("id INT, name STRING, amount DOUBLE")
        .csv(f"s3a://{key}")
    )
    frame.writeTo(table).option("snapshot-property.autoloader.batch-id", f"batch-{run}").append()

    loaded = sorted(tuple(row) for row in spark.table(table).collect())
    snapshots = spark.sql(
        f"SELECT snapshot_id, operation, summary FROM {table}.snapshots"
    ).collect()
    location = spark.sql(f"DESCRIBE TABLE EXTENDED {table}").where("col_name = 'Location'").first()

    assert loaded == ROWS
    assert len(snapshots) == 1
    assert snapshots[0]["operation"] == "append"
    summary = dict(snapshots[0]["summary"])
    assert summary["autoloader.batch-id"] == f"batch-{run}"
    assert summary["added-records"] == str(len(ROWS))
    assert location is not None and str(location["data_type"]).startswith(
        settings["AUTOLOADER_WAREHOUSE"].rstrip("/")
    ), json.dumps(location.asDict() if location else {})
