"""./dev bench load [--quick]: Autoloader's load path against a plain Spark job, same server.

(a) one large CSV file of twelve columns (~1 GB; --quick ~40 MB); (b) 10,000 small JSON files (--quick 500).
Ours: a claimed batch through load_claimed_batch (schema sample, metadata columns, Iceberg append
with the batch id, per-file row counts, ledger update). Baseline: the hand-written Spark job doing
the same read with the same schema and the same Iceberg append. A second baseline is that job
also writing the four lineage columns Autoloader adds to every row (file path, file time, batch
id, ingestion time), to tell the cost of those columns from the cost of the bookkeeping. A third
is the job adding a single constant INT column: Spark's floor for adding any column at all (the
scan's rows are copied once more by the projection), which no load path that adds columns can go
below. Each runs three times (once with --quick), alternating, into fresh tables; the faster run is
reported. Ours also runs with no column added at all (destination.metadata_columns all null, and
corrupt_records fail, so no `_corrupt_record` column either): `no_metadata_ratio` is the plain
job's time over that one's.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from _stack import s3_filesystem, services
from alembic import command
from autoloader_discovery.discover import discover
from autoloader_ingest.batches import load_claimed_batch
from autoloader_metadata.db import alembic_config, make_engine, session_factory, transaction
from autoloader_metadata.enums import FileFormat
from autoloader_metadata.ledger import FileLedger
from autoloader_metadata.repositories import TenantRepository
from autoloader_model.ingestion import Ingestion, spec_of_columns
from autoloader_model.store import IngestionStore
from ledger import drop_database, fresh_database
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from sqlalchemy.orm import Session, sessionmaker

from autoloader_spark.session import connect
from autoloader_storage import credentials
from autoloader_storage.reach import ReachPolicy
from autoloader_storage.uri import parse_source_uri

# An order-line shaped record: twelve columns, ~100 bytes a row as CSV.
LINEAGE_DDL = (
    ", _source_file STRING, _source_modified_at TIMESTAMP, _batch_id STRING, _ingested_at TIMESTAMP"
)
DDL = (
    "id BIGINT, name STRING, amount DOUBLE, day DATE, country STRING, channel STRING, "
    "product STRING, quantity INT, price DOUBLE, discount DOUBLE, status STRING, note STRING"
)
COUNTRIES = ("DE", "FR", "US", "TR", "JP", "BR", "IN", "NG")
CHANNELS = ("web", "store", "partner", "app")
STATUSES = ("paid", "shipped", "returned", "cancelled")


def csv_line(i: int) -> str:
    return (
        f"{i},customer-{i % 100000:06d},{(i * 37) % 100000 / 100:.2f},2026-11-{1 + i % 28:02d},"
        f"{COUNTRIES[i % 8]},{CHANNELS[i % 4]},SKU-{i % 5000:05d},{1 + i % 9},"
        f"{(i * 13) % 10000 / 100:.2f},{(i % 5) * 0.05:.2f},{STATUSES[i % 4]},gift wrap {i % 3}\n"
    )


def json_line(i: int) -> str:
    return (
        f'{{"id": {i}, "name": "n{i % 1000}", "amount": {i % 977}.5, "day": "2026-11-01", '
        f'"country": "{COUNTRIES[i % 8]}", "channel": "{CHANNELS[i % 4]}", '
        f'"product": "SKU-{i % 5000:05d}", "quantity": {1 + i % 9}, "price": {i % 100}.25, '
        f'"discount": 0.1, "status": "{STATUSES[i % 4]}", "note": "n"}}\n'
    )


LATER = datetime.now(UTC) + timedelta(hours=1)


def write_big_csv(fs: Any, path: str, rows: int) -> int:
    with fs.open(path, "wb", block_size=64 * 1024 * 1024) as out:
        out.write(
            b"id,name,amount,day,country,channel,product,quantity,price,discount,status,note\n"
        )
        chunk: list[str] = []
        for i in range(rows):
            chunk.append(csv_line(i))
            if len(chunk) == 100_000:
                out.write("".join(chunk).encode())
                chunk = []
        out.write("".join(chunk).encode())
    return int(fs.info(path)["size"])


def write_small_json(fs: Any, root: str, files: int, rows_per_file: int) -> None:
    for start in range(0, files, 2000):
        fs.pipe(
            {
                f"{root}/f-{n:06d}.json": "".join(
                    json_line(n * rows_per_file + r) for r in range(rows_per_file)
                ).encode()
                for n in range(start, min(files, start + 2000))
            }
        )


NO_LINEAGE = {
    "source_file": None,
    "source_modified_at": None,
    "batch_id": None,
    "ingested_at": None,
}


def ingestion_for(
    sessions: sessionmaker[Session], uri: str, fmt: FileFormat, lineage: bool = True
) -> Ingestion:
    with transaction(sessions) as session:
        tenant = TenantRepository(session).create(f"bench-{uuid.uuid4().hex[:6]}")
        return IngestionStore(session).create(
            tenant.id,
            spec_of_columns(
                name="load",
                source_uri=uri,
                credential_ref="env:BENCH_S3",
                format=fmt,
                schema_ddl=DDL,
                destination_catalog="lake",
                destination_namespace="bench_load",
                destination_table=f"ours_{uuid.uuid4().hex[:8]}",
                max_files_per_batch=100_000,
                metadata_columns=None if lineage else NO_LINEAGE,
                # No column added at all: nor the corrupt-record column (corrupt rows fail).
                format_options={} if lineage else {"corruptRecords": "fail"},
            ),
        )


def case(
    name: str,
    spark: SparkSession,
    sessions: sessionmaker[Session],
    uri: str,
    fmt: FileFormat,
    environ: dict[str, str],
    rounds: int,
) -> str:
    spark_uri = "s3a://" + uri.removeprefix("s3://")

    def plain_job(added: str) -> Callable[[], int]:
        """The hand-written job; it adds no column ("none"), one constant INT ("one"), or the
        four columns Autoloader adds ("lineage")."""

        def run() -> int:
            table = f"lake.bench_load.plain_{uuid.uuid4().hex[:8]}"
            extra = {"none": "", "one": ", _constant INT", "lineage": LINEAGE_DDL}[added]
            started = time.perf_counter()
            spark.sql(f"CREATE TABLE {table} ({DDL}{extra}) USING iceberg")
            reader = spark.read.schema(DDL)
            frame = (
                reader.option("header", "true").csv(spark_uri)
                if fmt is FileFormat.CSV
                else reader.json(spark_uri)
            )
            if added == "one":
                frame = frame.select("*", F.lit(1).alias("_constant"))
            if added == "lineage":
                frame = frame.select(
                    "*",
                    F.col("_metadata.file_path").alias("_source_file"),
                    F.col("_metadata.file_modification_time").alias("_source_modified_at"),
                    F.lit(str(uuid.uuid4())).alias("_batch_id"),
                    F.current_timestamp().alias("_ingested_at"),
                )
            frame.writeTo(table).append()
            runs[added].append(time.perf_counter() - started)
            return int(spark.table(table).count())

        return run

    def ours(lineage: bool) -> int:
        ingestion = ingestion_for(sessions, uri, fmt, lineage)
        with transaction(sessions) as session:
            discover(session, ingestion, LATER, environ)
            batch = FileLedger(session).claim_batch(ingestion.id, 100_000, 10**13)
        assert batch is not None
        started = time.perf_counter()
        result = load_claimed_batch(
            sessions, spark, ingestion, batch, access=spark_access(ingestion, environ)
        )
        timed_only_load["ours" if lineage else "bare"].append(time.perf_counter() - started)
        assert result.failed_files == 0, "no file should fail"
        return result.rows

    timed_only_load: dict[str, list[float]] = {"ours": [], "bare": []}
    runs: dict[str, list[float]] = {"none": [], "one": [], "lineage": []}
    rows = our_rows = bare_rows = 0
    for _ in range(rounds):  # alternate, so drift on a noisy machine hits all five alike
        rows = plain_job("none")()
        our_rows = ours(lineage=True)
        plain_job("lineage")()
        bare_rows = ours(lineage=False)
        plain_job("one")()
    if our_rows != rows or bare_rows != rows:
        raise SystemExit(
            f"case {name}: ours loaded {our_rows} rows ({bare_rows} without lineage columns), "
            f"the baseline {rows}"
        )
    seconds, bare = min(timed_only_load["ours"]), min(timed_only_load["bare"])
    baseline, lineage, one_column = (min(runs[k]) for k in ("none", "lineage", "one"))
    return (
        f"RESULT load case={name} rows={rows} seconds={seconds:.2f} "
        f"baseline_seconds={baseline:.2f} ratio={baseline / seconds:.2f} "
        f"lineage_baseline_seconds={lineage:.2f} lineage_ratio={lineage / seconds:.2f} "
        f"no_metadata_seconds={bare:.2f} no_metadata_ratio={baseline / bare:.2f} "
        f"one_column_seconds={one_column:.2f} one_column_ratio={baseline / one_column:.2f}"
    )


MERGE_DDL = "id BIGINT, name STRING, amount DOUBLE"


def merge_case(
    spark: SparkSession,
    sessions: sessionmaker[Session],
    root: str,
    environ: dict[str, str],
    rounds: int,
    table_rows: int,
    batch_rows: int,
) -> str:
    """A batch of `batch_rows` (a tenth updates, the rest new keys) merged by id into a table of
    `table_rows`: ours (a merge ingestion's claimed batch) against a hand-written MERGE INTO of
    the same files, with the same lineage columns, each into a fresh copy of the table."""
    base = f"lake.bench_load.merge_base_{uuid.uuid4().hex[:8]}"
    lineage = (
        "CAST(NULL AS STRING) AS _source_file, CAST(NULL AS TIMESTAMP) AS _source_modified_at, "
        "'seed' AS _batch_id, CAST(NULL AS TIMESTAMP) AS _ingested_at"
    )
    spark.sql(
        f"CREATE TABLE {base} USING iceberg AS SELECT id, concat('n', id) AS name, "
        f"CAST(id % 1000 AS DOUBLE) AS amount, {lineage} FROM range({table_rows})"
    )
    updates = batch_rows // 10
    spark.sql(
        f"SELECT id * 10 AS id, 'updated' AS name, CAST(1.5 AS DOUBLE) AS amount FROM range({updates}) "
        f"UNION ALL SELECT {table_rows} + id AS id, 'new' AS name, CAST(2.5 AS DOUBLE) AS amount "
        f"FROM range({batch_rows - updates})"
    ).repartition(8).write.parquet(f"s3a://{root}/merge")
    uri = f"s3://{root}/merge"

    def fresh_copy() -> str:
        table = f"bench_load.merge_{uuid.uuid4().hex[:8]}"
        spark.sql(f"CREATE TABLE lake.{table} USING iceberg AS SELECT * FROM {base}")
        return table

    def baseline() -> None:
        table = f"lake.{fresh_copy()}"
        started = time.perf_counter()
        # A MERGE refuses Spark's hidden _metadata column and non-deterministic input_file_name()
        # in its source: the hand-written job names the folder and its own time.
        source = spark.read.parquet(f"s3a://{root}/merge").select(
            "*",
            F.lit(f"s3a://{root}/merge").alias("_source_file"),
            F.current_timestamp().alias("_source_modified_at"),
            F.lit(str(uuid.uuid4())).alias("_batch_id"),
            F.current_timestamp().alias("_ingested_at"),
        )
        (
            source.alias("s")
            .mergeInto(table, F.expr(f"{table}.id = s.id"))
            .whenMatched()
            .updateAll()
            .whenNotMatched()
            .insertAll()
            .merge()
        )
        timings["baseline"].append(time.perf_counter() - started)

    def ours() -> int:
        namespace, table = fresh_copy().split(".")
        with transaction(sessions) as session:
            tenant = TenantRepository(session).create(f"bench-{uuid.uuid4().hex[:6]}")
            ingestion = IngestionStore(session).create(
                tenant.id,
                spec_of_columns(
                    name="merge",
                    source_uri=uri,
                    source_glob="*.parquet",
                    credential_ref="env:BENCH_S3",
                    format=FileFormat.PARQUET,
                    destination_catalog="lake",
                    destination_namespace=namespace,
                    destination_table=table,
                    write_mode="merge",
                    merge_keys=["id"],
                    max_files_per_batch=100_000,
                ),
            )
            discover(session, ingestion, LATER, environ)
            batch = FileLedger(session).claim_batch(ingestion.id, 100_000, 10**13)
        assert batch is not None
        started = time.perf_counter()
        result = load_claimed_batch(
            sessions, spark, ingestion, batch, access=spark_access(ingestion, environ)
        )
        timings["ours"].append(time.perf_counter() - started)
        assert result.failed_files == 0, "no file should fail"
        final = int(spark.table(f"lake.{namespace}.{table}").count())
        if final != table_rows + batch_rows - updates:
            raise SystemExit(
                f"merge: the table has {final} rows, not {table_rows + batch_rows - updates}"
            )
        return result.rows

    timings: dict[str, list[float]] = {"ours": [], "baseline": []}
    for _ in range(rounds):
        baseline()
        ours()
    seconds, hand = min(timings["ours"]), min(timings["baseline"])
    return (
        f"RESULT load case=merge table_rows={table_rows} batch_rows={batch_rows} "
        f"merge_seconds={seconds:.2f} baseline_merge_seconds={hand:.2f} merge_ratio={hand / seconds:.2f}"
    )


def spark_access(ingestion: Ingestion, environ: dict[str, str]) -> dict[str, str]:
    """What a run gives Spark: the ingestion's own credential for this read (so no Hadoop
    FileSystem cache), while the plain job reads with the cluster's identity, cache on."""
    source = parse_source_uri(ingestion.spec.source.uri)
    connection = credentials.resolve(ingestion.spec.source.credential_ref, source.kind, environ)
    return ReachPolicy().spark_access(source, connection, ingestion.spec.cluster)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="~40 MB CSV and 500 JSON files")
    parser.add_argument("--case", choices=["a", "b", "merge"], help="run one case only")
    parser.add_argument(
        "--spark-cluster",
        action="store_true",
        help="on the standalone cluster (a master, two one-core workers) instead of local[*]",
    )
    args = parser.parse_args()
    spark_service, remote = (
        ("spark-cluster", "AUTOLOADER_SPARK_CLUSTER_REMOTE")
        if args.spark_cluster
        else ("spark", "AUTOLOADER_SPARK_REMOTE")
    )
    csv_rows, json_files = (400_000, 500) if args.quick else (10_000_000, 10_000)
    rounds = 1 if args.quick else 3

    with services("postgres", "s3", spark_service) as settings:
        environ = {
            "BENCH_S3_ACCESS_KEY_ID": settings["AUTOLOADER_S3_ACCESS_KEY"],
            "BENCH_S3_SECRET_ACCESS_KEY": settings["AUTOLOADER_S3_SECRET_KEY"],
            "BENCH_S3_ENDPOINT_URL": settings["AUTOLOADER_S3_ENDPOINT"],
        }
        os.environ.update(environ)  # the ingestions name their credential as env:BENCH_S3
        fs = s3_filesystem(settings)
        root = f"{settings['AUTOLOADER_LANDING_BUCKET']}/bench-load-{uuid.uuid4().hex[:8]}"
        url = fresh_database(settings["AUTOLOADER_DATABASE_URL"])
        engine = make_engine(url, pool_size=2)
        spark = connect(settings[remote])
        results = []
        try:
            command.upgrade(alembic_config(url), "head")
            sessions = session_factory(engine)
            spark.sql("CREATE NAMESPACE IF NOT EXISTS lake.bench_load")
            if args.case in (None, "a"):
                size = write_big_csv(fs, f"{root}/a/big.csv", csv_rows)
                print(f"case a: one CSV of {size / 1e9:.2f} GB", flush=True)
                results.append(
                    case("a", spark, sessions, f"s3://{root}/a", FileFormat.CSV, environ, rounds)
                )
                print(f"{results[-1]} spark={spark_service}", flush=True)
            if args.case in (None, "merge"):
                table_rows, batch_rows = (1_000_000, 100_000) if args.quick else (10**7, 10**6)
                results.append(
                    merge_case(spark, sessions, root, environ, rounds, table_rows, batch_rows)
                )
                print(f"{results[-1]} spark={spark_service}", flush=True)
            if args.case in (None, "b"):
                write_small_json(fs, f"{root}/b", json_files, 5)
                print(f"case b: {json_files:,} JSON files", flush=True)
                results.append(
                    case("b", spark, sessions, f"s3://{root}/b", FileFormat.JSON, environ, rounds)
                )
                print(f"{results[-1]} spark={spark_service}", flush=True)
        finally:
            engine.dispose()
            drop_database(url)
            fs.rm(root, recursive=True)
            for row in spark.sql("SHOW TABLES IN lake.bench_load").collect():
                spark.sql(f"DROP TABLE IF EXISTS lake.bench_load.{row['tableName']} PURGE")
            # Before the server goes: a client left open keeps retrying a dead server at exit.
            spark.stop()
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
