"""Messy real files on the real stack: any column name loads, a poison file fails alone (split
out of its batch when its error names no file), and every failure has its category."""

from __future__ import annotations

import gzip
import uuid
from pathlib import Path

import pytest
from autoloader_ingest.batches import load_claimed_batch
from autoloader_metadata.enums import BatchStatus, ColumnNames, FileFormat, FileStatus
from autoloader_metadata.ledger import DEFAULT_MAX_ATTEMPTS
from autoloader_metadata.models import Batch, LedgerFile
from autoloader_model.ingestion import Ingestion
from loading_support import (
    NAMESPACE,
    discover_and_claim,
    files_by_name,
    new_ingestion,
    spark_access,
)
from pyspark.sql import SparkSession
from pyspark.sql.types import ArrayType, LongType, StructField, StructType
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from stores import Place, new_place
from support import StackFactory, migrated_database

# Every header Iceberg takes as written, and an empty cell (Spark names it _c<position>).
MESSY_HEADER = "order id,unit.price,net-amount,Zürich,1st,,x:y<z>,a`b"
MESSY_COLUMNS = ["order id", "unit.price", "net-amount", "Zürich", "1st", "_c5", "x:y<z>", "a`b"]
CRAFTED = "x:int>) USING iceberg LOCATION 's3a://landing/stolen' --"


@pytest.fixture(scope="module")
def stack(services: StackFactory) -> dict[str, str]:
    return services("spark")


@pytest.fixture(scope="module")
def database(stack: dict[str, str]) -> str:
    return migrated_database(stack["AUTOLOADER_DATABASE_URL"], "it_messy")


@pytest.fixture
def place(stack: dict[str, str], tmp_path: Path) -> Place:
    return new_place("s3", stack, tmp_path)


def table_of(ingestion: Ingestion) -> str:
    return f"lake.{NAMESPACE}.{ingestion.spec.destination.table}"


def outcome(files: dict[str, LedgerFile]) -> dict[str, tuple[str, str | None]]:
    for name, f in sorted(files.items()):
        print(f"{name}: {f.status.value} {f.error_category or ''} {f.last_error or ''}")
    return {name: (f.status.value, f.error_category) for name, f in files.items()}


def truncated_gzip(data: bytes) -> bytes:
    packed = gzip.compress(data)
    return packed[: len(packed) // 2]


def test_a_messy_csv_batch_loads_its_good_files_and_fails_each_bad_one_by_category(
    spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    place.put(
        {
            "a_good.csv": b"id,name,amount\n1,alpha,10.5\n2,beta,20.25\n",
            "b_messy_header.csv": (MESSY_HEADER + "\nA-1,9.5,8,zh,first,blank,xy,ab\n").encode(),
            "c_bom_crlf.csv": b"\xef\xbb\xbfid,name,amount\r\n3,gamma,30.0\r\n",
            "d_empty.csv": b"",
            "e_case.csv": b"Id,id\n1,2\n",
            "f_semicolon.csv": b"id;name;amount\n4;delta;40\n",
            "g_truncated.csv.gz": truncated_gzip(
                b"id,name,amount\n" + b"".join(b"%d,n%d,1.0\n" % (i, i) for i in range(20000))
            ),
        }
    )
    ingestion = new_ingestion(sessions, place)
    batch = discover_and_claim(sessions, ingestion, place)
    assert batch is not None and len(batch.files) == 7  # one batch

    result = load_claimed_batch(
        sessions, spark, ingestion, batch, access=spark_access(ingestion, place)
    )

    files = files_by_name(sessions, ingestion)
    assert outcome(files) == {
        "a_good.csv": ("loaded", None),
        "b_messy_header.csv": ("loaded", None),
        "c_bom_crlf.csv": ("loaded", None),
        "d_empty.csv": ("loaded", None),
        "e_case.csv": ("failed", "schema_mismatch"),
        "f_semicolon.csv": ("failed", "malformed"),
        "g_truncated.csv.gz": ("failed", "malformed"),
    }
    assert (result.loaded_files, result.failed_files, result.rows) == (4, 3, 4)
    reasons = {name: f.last_error or "" for name, f in files.items() if f.status.value == "failed"}
    assert "'Id' and 'id' differ only by case" in reasons["e_case.csv"]
    assert "delimited by ';'" in reasons["f_semicolon.csv"]
    assert (
        "EOFException" in reasons["g_truncated.csv.gz"] or "gzip" in reasons["g_truncated.csv.gz"]
    )
    # Deterministic: used up at once, so no later run tries them again until reprocessed.
    assert all(files[name].attempts == DEFAULT_MAX_ATTEMPTS for name in reasons)
    assert files["d_empty.csv"].rows_loaded == 0

    table = spark.table(table_of(ingestion))
    data_columns = table.columns[: table.columns.index("_corrupt_record")]  # lineage after
    assert sorted(data_columns) == sorted(["id", "name", "amount", *MESSY_COLUMNS])
    good = table.select("id", "name", "amount").where("id IS NOT NULL")
    rows = sorted(tuple(r) for r in good.collect())
    assert rows == [("1", "alpha", "10.5"), ("2", "beta", "20.25"), ("3", "gamma", "30.0")]
    messy = table.where("`order id` IS NOT NULL").select(
        *[f"`{c.replace('`', '``')}`" for c in MESSY_COLUMNS]
    )
    assert [tuple(r) for r in messy.collect()] == [
        ("A-1", "9.5", "8", "zh", "first", "blank", "xy", "ab")
    ]

    # A later file in the same prefix loads in the next batch; the failed ones stay out.
    place.put({"h_later.csv": b"id,name,amount\n5,epsilon,50.0\n"})
    later = discover_and_claim(sessions, ingestion, place)
    assert later is not None and [f.path.rsplit("/", 1)[1] for f in later.files] == ["h_later.csv"]
    assert (
        load_claimed_batch(
            sessions, spark, ingestion, later, access=spark_access(ingestion, place)
        ).rows
        == 1
    )


def test_json_names_at_every_level_load_and_a_string_in_a_bigint_column_fails(
    spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    place.put(
        {
            "a_nested.json": (
                '{"id": 1, "name": "a", "at": "2026-12-03T08:00:00Z", '
                '"c": {"a b": 1, "x:int>": 2, "q`q": 3, "é": 4}, "arr": [{"k.v": 5}]}\n'
            ).encode(),
            "b_crafted.json": ('{"id": 2, "name": "b", "d": {"%s": 6}}\n' % CRAFTED).encode(),
            "c_string_id.json": b'{"id": "abc", "name": "z"}\n',
            "d_plain.json": b'{"id": 3, "name": "c"}\n',
        }
    )
    ingestion = new_ingestion(
        sessions, place, format=FileFormat.JSON, schema_ddl="id BIGINT, name STRING, at TIMESTAMP"
    )
    batch = discover_and_claim(sessions, ingestion, place)
    assert batch is not None

    load_claimed_batch(sessions, spark, ingestion, batch, access=spark_access(ingestion, place))

    files = files_by_name(sessions, ingestion)
    assert outcome(files) == {
        "a_nested.json": ("loaded", None),
        "b_crafted.json": ("loaded", None),
        "c_string_id.json": ("failed", "schema_mismatch"),
        "d_plain.json": ("loaded", None),
    }
    reason = files["c_string_id.json"].last_error or ""
    print(f"c_string_id.json: {reason}")
    assert "'id' is bigint in the table and string in the files" in reason
    schema = spark.table(table_of(ingestion)).schema
    assert schema["c"].dataType == StructType(
        [StructField(name, LongType()) for name in ["a b", "q`q", "x:int>", "é"]]
    )
    assert schema["arr"].dataType == ArrayType(StructType([StructField("k.v", LongType())]))
    assert schema["d"].dataType == StructType([StructField(CRAFTED, LongType())])  # not SQL
    rows = spark.sql(
        f"SELECT id, c.`a b`, c.`q``q`, arr[0].`k.v`, d.`{CRAFTED}` FROM {table_of(ingestion)}"
    ).collect()
    timed = spark.sql(f"SELECT count(*) AS n FROM {table_of(ingestion)} WHERE at IS NOT NULL")
    assert [r["n"] for r in timed.collect()] == [1]  # a JSON timestamp is text, and passes
    assert sorted(tuple(r) for r in rows) == [
        (1, 1, 3, 5, None),
        (2, None, None, None, 6),
        (3, None, None, None, None),
    ]


def test_parquet_map_values_and_array_elements_keep_their_names_and_a_wrong_type_fails(
    spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    good = spark.createDataFrame(
        [(1, "a", 1.5, {"k": {"in ner": 7}}, [{"x.y": 8}])],
        "id BIGINT, name STRING, amount DOUBLE, m MAP<STRING, STRUCT<`in ner`: INT>>, "
        "arr ARRAY<STRUCT<`x.y`: INT>>",
    )
    good.coalesce(1).write.mode("overwrite").parquet(f"s3a://{place.root}/good")
    bad = spark.createDataFrame([(2, "b", "1,5")], "id BIGINT, name STRING, amount STRING")
    bad.coalesce(1).write.mode("overwrite").parquet(f"s3a://{place.root}/bad")
    place.put({"empty.parquet": b""})
    ingestion = new_ingestion(
        sessions,
        place,
        format=FileFormat.PARQUET,
        source_glob="**/*.parquet",
        schema_ddl="id BIGINT, name STRING, amount DOUBLE",
    )
    batch = discover_and_claim(sessions, ingestion, place)
    assert batch is not None and len(batch.files) == 3

    load_claimed_batch(sessions, spark, ingestion, batch, access=spark_access(ingestion, place))

    with sessions() as session:
        rows = session.execute(
            select(
                LedgerFile.path, LedgerFile.status, LedgerFile.error_category, LedgerFile.last_error
            ).where(LedgerFile.ingestion_id == ingestion.id)
        ).all()
    by_folder = {r.path.split(place.uri.rstrip("/") + "/", 1)[1].split("/")[0]: r for r in rows}
    for r in rows:
        print(r.path, r.status, r.error_category, r.last_error)
    assert by_folder["good"].status is FileStatus.LOADED
    assert (by_folder["bad"].status, by_folder["bad"].error_category) == (
        FileStatus.FAILED,
        "schema_mismatch",
    )
    assert "amount" in (by_folder["bad"].last_error or "")
    assert (by_folder["empty.parquet"].status, by_folder["empty.parquet"].error_category) == (
        FileStatus.FAILED,
        "malformed",
    )
    loaded = spark.sql(
        f"SELECT id, m['k'].`in ner`, arr[0].`x.y` FROM {table_of(ingestion)}"
    ).collect()
    assert [tuple(r) for r in loaded] == [(1, 7, 8)]


def test_an_error_naming_no_file_splits_the_batch_until_only_the_culprit_fails(
    spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    # {"a": …, "A": …}: Spark refuses the two names while it infers the whole sample's schema,
    # and its error names no file.
    good = {f"{n}.json": f'{{"id": {n}, "name": "n{n}"}}\n'.encode() for n in range(1, 6)}
    place.put({**good, "3b_ambiguous.json": b'{"id": 99, "a": 1, "A": 2}\n'})
    ingestion = new_ingestion(sessions, place, format=FileFormat.JSON)
    batch = discover_and_claim(sessions, ingestion, place)
    assert batch is not None and len(batch.files) == 6

    result = load_claimed_batch(
        sessions, spark, ingestion, batch, access=spark_access(ingestion, place)
    )

    files = files_by_name(sessions, ingestion)
    assert {n for n, f in files.items() if f.status is FileStatus.FAILED} == {"3b_ambiguous.json"}
    culprit = files["3b_ambiguous.json"]
    print(f"culprit: {culprit.error_category}: {culprit.last_error}")
    assert culprit.error_category == "schema_mismatch" and "`a`" in (culprit.last_error or "")
    assert (result.loaded_files, result.failed_files, result.rows) == (5, 1, 5)
    assert result.parts > 1
    assert sorted(r.id for r in spark.table(table_of(ingestion)).select("id").collect()) == [
        1,
        2,
        3,
        4,
        5,
    ]
    with sessions() as session:
        batches = session.scalars(select(Batch).where(Batch.ingestion_id == ingestion.id)).all()
    by_id = {b.id: b for b in batches}
    assert by_id[batch.id].status is BatchStatus.SPLIT
    loaded = {b.id: b for b in batches if b.status is BatchStatus.LOADED}
    assert loaded and all(b.parent_id is not None for b in loaded.values())
    # Each part committed its own snapshot, tagged with its own batch id.
    tagged = spark.sql(
        f"SELECT snapshot_id, summary['autoloader.batch-id'] AS batch FROM {table_of(ingestion)}.snapshots"
    ).collect()
    assert {uuid.UUID(r["batch"]): r["snapshot_id"] for r in tagged} == {
        b.id: b.snapshot_id for b in loaded.values()
    }
    loaded_files = {f.batch_id for f in files.values() if f.status is FileStatus.LOADED}
    assert loaded_files <= set(loaded)


def test_snake_case_names_load_and_names_that_collide_fail_the_file_naming_both(
    spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    place.put(
        {
            "a.csv": b"Order ID,unitPrice,Zurich Office\n1,2.5,zh\n",
            "b.csv": b"order id,Order_ID\n1,2\n",
        }
    )
    ingestion = new_ingestion(sessions, place, column_names=ColumnNames.SNAKE_CASE)
    batch = discover_and_claim(sessions, ingestion, place)
    assert batch is not None

    load_claimed_batch(sessions, spark, ingestion, batch, access=spark_access(ingestion, place))

    files = files_by_name(sessions, ingestion)
    assert outcome(files) == {"a.csv": ("loaded", None), "b.csv": ("failed", "schema_mismatch")}
    assert "'order id' and 'Order_ID' both become 'order_id'" in (files["b.csv"].last_error or "")
    table = spark.table(table_of(ingestion))
    assert [c for c in table.columns if not c.startswith("_")] == [
        "order_id",
        "unit_price",
        "zurich_office",
    ]
    assert [tuple(r) for r in table.select("order_id", "unit_price").collect()] == [("1", "2.5")]


def test_a_file_over_the_size_limit_fails_as_too_large_before_spark_reads_it(
    spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    place.put({"small.csv": b"id\n1\n", "big.csv": b"id\n" + b"2\n" * 5000})
    ingestion = new_ingestion(sessions, place, max_file_bytes=1000)
    batch = discover_and_claim(sessions, ingestion, place)
    assert batch is not None

    load_claimed_batch(sessions, spark, ingestion, batch, access=spark_access(ingestion, place))

    files = files_by_name(sessions, ingestion)
    assert outcome(files) == {"small.csv": ("loaded", None), "big.csv": ("failed", "too_large")}
    assert "over the ingestion's limit of 1,000" in (files["big.csv"].last_error or "")
