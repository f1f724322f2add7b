"""Loading options on the real stack (S3, Spark Connect with Iceberg, PostgreSQL, the API):
schema hints, columns from the path, a choice of lineage columns, type widening and fields new
inside structs, and the schema history the API shows."""

from __future__ import annotations

import json
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from api_process import ApiProcess, api_environment
from autoloader_metadata.enums import FileFormat
from autoloader_metadata.models import Batch, LedgerFile
from autoloader_model.ingestion import Ingestion
from autoloader_model.store import IngestionStore
from loading_support import (
    LATER,
    NAMESPACE,
    discover_and_claim,
    files_by_name,
    ingest,
    new_ingestion,
)
from pyspark.sql import DataFrame, SparkSession
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from stores import Place, new_place
from support import StackFactory


@pytest.fixture(scope="module")
def stack(services: StackFactory, prefect_settings: dict[str, str]) -> dict[str, str]:
    return services("prefect", "spark")


@pytest.fixture(scope="module")
def environment(stack: dict[str, str]) -> dict[str, str]:
    return api_environment(stack, "it_options")


@pytest.fixture(scope="module")
def database(environment: dict[str, str]) -> str:
    return environment["AUTOLOADER_DATABASE_URL"]


@pytest.fixture
def place(stack: dict[str, str], tmp_path: Path) -> Place:
    return new_place("s3", stack, tmp_path)


def table_of(spark: SparkSession, ingestion: Ingestion) -> DataFrame:
    name = f"lake.{NAMESPACE}.{ingestion.spec.destination.table}"
    spark.catalog.refreshTable(name)
    return spark.table(name)


def types_of(frame: DataFrame) -> dict[str, str]:
    return {f.name: f.dataType.simpleString() for f in frame.schema.fields}


def json_lines(*records: dict[str, Any]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def test_hints_type_the_columns_they_name_and_inference_types_the_rest(
    spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    place.put(
        {
            "a.json": json_lines(
                {"id": 1, "amount": 10.25, "at": "2026-11-01T10:00:00Z", "note": "x"},
                {"id": 2, "amount": 0.1, "at": "2026-11-02T11:30:00Z", "note": "y"},
            ),
        }
    )
    ingestion = new_ingestion(
        sessions,
        place,
        format=FileFormat.JSON,
        schema_hints="amount DECIMAL(12,2), at TIMESTAMP, absent INT",
    )

    result = ingest(sessions, spark, ingestion, place)

    table = table_of(spark, ingestion)
    types = types_of(table)
    assert (types["amount"], types["at"]) == ("decimal(12,2)", "timestamp")
    assert (types["id"], types["note"]) == ("bigint", "string")  # inferred, as without hints
    assert "absent" not in types
    rows = sorted((r.id, r.amount) for r in table.select("id", "amount").collect())
    assert rows == [(1, Decimal("10.25")), (2, Decimal("0.10"))]  # exact, not 0.1000000000001
    assert result.rows == 2
    assert any("'absent', which the files do not have" in w for w in result.warnings)


def test_hints_type_a_csv_and_cast_a_parquet_file_to_the_hinted_type(
    spark: SparkSession,
    sessions: sessionmaker[Session],
    place: Place,
    stack: dict[str, str],
    tmp_path: Path,
) -> None:
    place.put({"a.csv": b"id,amount,day\n1,10.5,2026-11-30\n2,3,2026-12-01\n"})
    csv = new_ingestion(sessions, place, schema_hints="id BIGINT, day DATE")
    ingest(sessions, spark, csv, place)
    table = table_of(spark, csv)
    types = types_of(table)
    # amount has no hint and the ingestion no inferSchema: a string, as the file writes it.
    assert (types["id"], types["amount"], types["day"]) == ("bigint", "string", "date")
    assert sorted(tuple(r) for r in table.select("id", "day").collect())[0] == (
        1,
        date(2026, 11, 30),
    )

    parquet_place = new_place("s3", stack, tmp_path)
    spark.createDataFrame([(1, 2.5), (2, 7.25)], "id INT, amount DOUBLE").coalesce(1).write.parquet(
        f"s3a://{parquet_place.root}/data"
    )
    parquet = new_ingestion(
        sessions,
        parquet_place,
        format=FileFormat.PARQUET,
        source_glob="**/*.parquet",
        schema_hints="amount DECIMAL(10,2)",
    )
    ingest(sessions, spark, parquet, parquet_place)
    table = table_of(spark, parquet)
    assert (types_of(table)["id"], types_of(table)["amount"]) == ("int", "decimal(10,2)")
    assert sorted(tuple(r) for r in table.select("id", "amount").collect()) == [
        (1, Decimal("2.50")),
        (2, Decimal("7.25")),
    ]


def test_path_columns_are_typed_and_filled_and_a_path_without_one_gets_null(
    spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    place.put(
        {
            "year=2026/month=11/region=eu/a.csv": b"id\n1\n2\n",
            "year=2025/month=12/region=us/b.csv": b"id\n3\n",
            "year=2026/c.csv": b"id\n4\n",
        }
    )
    ingestion = new_ingestion(
        sessions,
        place,
        source_glob="**/*.csv",
        path_columns=["year", "month", "region"],
        schema_hints="month STRING",
    )

    result = ingest(sessions, spark, ingestion, place)

    table = table_of(spark, ingestion)
    types = types_of(table)
    assert (types["year"], types["month"], types["region"]) == ("bigint", "string", "string")
    rows = sorted(tuple(r) for r in table.select("id", "year", "month", "region").collect())
    assert rows == [
        ("1", 2026, "11", "eu"),
        ("2", 2026, "11", "eu"),
        ("3", 2025, "12", "us"),
        ("4", 2026, None, None),
    ]
    assert result.rows == 4
    assert [w for w in result.warnings if "c.csv" in w] == [
        w for w in result.warnings if "no folder for month, region" in w
    ]
    assert len(result.warnings) == 1

    # A later batch of one file (its columns are constants); a value that is no integer fails
    # its file, which says why, and loads nothing.
    place.put({"year=2027/month=01/region=ap/d.csv": b"id\n5\n", "year=soon/e.csv": b"id\n6\n"})
    second = ingest(sessions, spark, ingestion, place)
    assert (second.loaded_files, second.failed_files) == (1, 1)
    files = files_by_name(sessions, ingestion)
    assert files["e.csv"].error_category == "schema_mismatch"
    assert "year=soon is not an integer" in (files["e.csv"].last_error or "")
    latest = table_of(spark, ingestion).where("id = '5'").select("year", "month", "region")
    assert [tuple(r) for r in latest.collect()] == [(2027, "01", "ap")]


def test_lineage_columns_are_written_as_chosen_and_none_at_all_still_counts_the_batch(
    spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    place.put({"a.csv": b"id\n1\n2\n", "b.csv": b"id\n3\n"})
    chosen = new_ingestion(
        sessions,
        place,
        metadata_columns={
            "source_file": "src",
            "batch_id": "_batch_id",
            "ingested_at": None,
            "source_size": "_size",
            "source_etag": "_etag",
        },
    )
    result = ingest(sessions, spark, chosen, place)
    table = table_of(spark, chosen)
    lineage = ["src", "_source_modified_at", "_batch_id", "_size", "_etag"]
    assert table.columns == ["id", "_corrupt_record", *lineage]
    files = files_by_name(sessions, chosen)
    etag_a, etag_b = files["a.csv"].etag, files["b.csv"].etag
    assert etag_a and etag_b and etag_a != etag_b
    rows = sorted((r.id, r.src.rsplit("/", 1)[1], r._size, r._etag) for r in table.collect())
    assert rows == [("1", "a.csv", 7, etag_a), ("2", "a.csv", 7, etag_a), ("3", "b.csv", 5, etag_b)]
    assert (files["a.csv"].rows_loaded, files["b.csv"].rows_loaded) == (2, 1)
    assert result.rows == 3

    bare = new_ingestion(
        sessions,
        place,
        metadata_columns={
            "source_file": None,
            "source_modified_at": None,
            "batch_id": None,
            "ingested_at": None,
        },
    )
    result = ingest(sessions, spark, bare, place)
    assert table_of(spark, bare).columns == ["id", "_corrupt_record"]
    assert result.rows == 3 and result.loaded_files == 2
    files = files_by_name(sessions, bare)
    # The table cannot tell the files' rows apart; the batch's count is the snapshot's.
    assert {f.rows_loaded for f in files.values()} == {None}
    with sessions() as session:
        assert session.scalar(select(Batch.row_count).where(Batch.id == result.batch_id)) == 3

    # A file loaded alone gets its ETag as a constant.
    place.put({"c.csv": b"id\n4\n"})
    ingest(sessions, spark, chosen, place)
    etag_c = files_by_name(sessions, chosen)["c.csv"].etag
    assert [r._etag for r in table_of(spark, chosen).where("id = '4'").collect()] == [etag_c]


def test_an_int_column_widens_to_bigint_and_a_struct_gains_a_field(
    spark: SparkSession,
    sessions: sessionmaker[Session],
    place: Place,
    api: ApiProcess,
    stack: dict[str, str],
    tmp_path: Path,
) -> None:
    tenant, key = api.tenant(scopes=("read",))
    root = f"s3a://{place.root}"
    spark.createDataFrame([(1, 10)], "id INT, qty INT").coalesce(1).write.parquet(f"{root}/1")
    ingestion = new_ingestion(
        sessions,
        place,
        uuid.UUID(tenant),
        format=FileFormat.PARQUET,
        source_glob="**/*.parquet",
    )
    ingest(sessions, spark, ingestion, place)
    assert types_of(table_of(spark, ingestion))["qty"] == "int"

    big = 2**40
    spark.createDataFrame([(2, big)], "id INT, qty BIGINT").coalesce(1).write.parquet(f"{root}/2")
    second = ingest(sessions, spark, ingestion, place)
    assert second.failed_files == 0
    table = table_of(spark, ingestion)
    assert types_of(table)["qty"] == "bigint"
    assert sorted(tuple(r) for r in table.select("id", "qty").collect()) == [(1, 10), (2, big)]

    # An int file reads into the wider column; a double one cannot, and fails alone.
    spark.createDataFrame([(3, 5)], "id INT, qty INT").coalesce(1).write.parquet(f"{root}/3")
    spark.createDataFrame([(4, 1.5)], "id INT, qty DOUBLE").coalesce(1).write.parquet(f"{root}/4")
    third = ingest(sessions, spark, ingestion, place)
    assert (third.loaded_files, third.failed_files) == (1, 1)
    failed = [f for f in files_by_name(sessions, ingestion).values() if f.status.value == "failed"]
    assert [f.error_category for f in failed] == ["schema_mismatch"]
    assert "qty" in (failed[0].last_error or ""), failed[0].last_error
    assert sorted(r.id for r in table_of(spark, ingestion).collect()) == [1, 2, 3]

    # JSON: a struct gains a field; old rows read null there.
    json_place = new_place("s3", stack, tmp_path)
    json_place.put({"a.json": json_lines({"id": 1, "point": {"x": 1.5}})})
    nested = new_ingestion(sessions, json_place, format=FileFormat.JSON)
    ingest(sessions, spark, nested, json_place)
    json_place.put({"b.json": json_lines({"id": 2, "point": {"x": 2.5, "y": -1.0}})})
    ingest(sessions, spark, nested, json_place)
    table = table_of(spark, nested)
    assert types_of(table)["point"] == "struct<x:double,y:double>"
    points = sorted((r.id, r.point.x, r.point.y) for r in table.select("id", "point").collect())
    assert points == [(1, 1.5, None), (2, 2.5, -1.0)]

    # The schema history, through the API, for the ingestion's own tenant only.
    with api.client(key) as client:
        listed = client.get(f"/api/v1/ingestions/{ingestion.id}/schema-versions")
        assert listed.status_code == 200, listed.text
        versions = listed.json()["items"]
        assert [v["version"] for v in versions] == [1, 2]
        first, widened = versions
        assert first["trigger"] == "first batch"
        assert {c["name"]: c["type"] for c in first["columns"]}["qty"] == "int"
        assert widened["trigger"] == "widened types"
        assert widened["change"] == {
            "added_columns": [],
            "widened_columns": {"qty": "int -> bigint"},
        }
        assert {c["name"]: c["type"] for c in widened["columns"]}["qty"] == "bigint"
        assert len(widened["files"]) == 1 and widened["files"][0].endswith(".parquet")
        one = client.get(f"/api/v1/ingestions/{ingestion.id}/schema-versions/2")
        assert one.json() == widened
        assert client.get(f"/api/v1/ingestions/{ingestion.id}/schema-versions/3").status_code == 404
    _, stranger = api.tenant(scopes=("read",))
    with api.client(stranger) as client:
        hidden = client.get(f"/api/v1/ingestions/{ingestion.id}/schema-versions")
        assert hidden.status_code == 404


def test_the_api_refuses_what_the_lineage_choice_cannot_do(
    spark: SparkSession, sessions: sessionmaker[Session], place: Place, api: ApiProcess
) -> None:
    place.put({"a.csv": b"id\n1\n"})
    _, key = api.tenant(scopes=("write",))
    body = {
        "name": f"bare-{uuid.uuid4().hex[:6]}",
        "source": {"uri": place.uri, "credential_ref": place.credential_ref},
        "format": {"type": "csv", "schema_hints": "id BIGINT"},
        "destination": {
            "catalog": "lake",
            "namespace": NAMESPACE,
            "table": f"t_{uuid.uuid4().hex[:10]}",
            "metadata_columns": {"batch_id": None, "ingested_at": None},
        },
    }
    with api.client(key) as client:
        created = client.post("/api/v1/ingestions", json=body)
        assert created.status_code == 201, created.text
        ingestion_id = created.json()["id"]
        lineage = created.json()["destination"]["metadata_columns"]
        assert lineage == {
            "source_file": "_source_file",
            "source_modified_at": "_source_modified_at",
            "batch_id": None,
            "ingested_at": None,
            "source_size": None,
            "source_etag": None,
        }
        refresh = client.post(
            f"/api/v1/ingestions/{ingestion_id}/refresh/full", json={"confirm": True}
        )
        assert refresh.status_code == 409, refresh.text
        assert "metadata_columns.batch_id" in refresh.json()["detail"]

        # Before any file loads the choice may change; after, it may not.
        changed = client.patch(
            f"/api/v1/ingestions/{ingestion_id}",
            json={"destination": {"metadata_columns": {"source_size": "_size"}}},
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["destination"]["metadata_columns"]["source_size"] == "_size"
        assert changed.json()["destination"]["metadata_columns"]["batch_id"] is None
        with sessions() as session:
            ingestion = IngestionStore(session).find(uuid.UUID(ingestion_id))
        assert ingestion is not None
        assert ingest(sessions, spark, ingestion, place).rows == 1
        refused = client.patch(
            f"/api/v1/ingestions/{ingestion_id}",
            json={"destination": {"metadata_columns": {"source_size": None}}},
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["detail"][0]["loc"] == ["body", "destination", "metadata_columns"]
        bad = client.post(
            "/api/v1/ingestions",
            json={**body, "format": {"type": "csv", "schema_hints": "id BIGNUM"}},
        )
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"][:3] == ["body", "format", "schema_hints"]


def test_a_preview_applies_hints_and_path_columns_and_refuses_a_hint_for_no_column(
    spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    from autoloader_ingest.preview import preview_ingestion

    from autoloader_spark.evolution import HintsUnmatched

    place.put({"day=2026-11-30/a.json": json_lines({"id": 1, "amount": 2.5})})
    hinted = new_ingestion(
        sessions,
        place,
        format=FileFormat.JSON,
        source_glob="**/*.json",
        path_columns=["day"],
        schema_hints="amount DECIMAL(6,2)",
    )
    shown = preview_ingestion(spark, hinted, environ=place.environ, now=LATER)
    columns = dict(shown.result.columns)
    assert (columns["amount"], columns["id"], columns["day"]) == ("decimal(6,2)", "bigint", "date")
    [row] = shown.result.rows
    assert (row["amount"], row["id"], row["day"]) == (Decimal("2.50"), 1, date(2026, 11, 30))

    wrong = new_ingestion(
        sessions, place, format=FileFormat.JSON, schema_hints="amount DOUBLE, amuont INT"
    )
    with pytest.raises(HintsUnmatched, match="names 'amuont', which the files do not have"):
        preview_ingestion(spark, wrong, environ=place.environ, now=LATER)
    with sessions() as session:
        assert (
            session.scalar(select(LedgerFile.id).where(LedgerFile.ingestion_id == wrong.id)) is None
        )


def csv_ids(ids: range) -> bytes:
    return ("id,label\n" + "".join(f"{i},v{i}\n" for i in ids)).encode()


def snapshots_of(spark: SparkSession, ingestion: Ingestion) -> int:
    name = f"lake.{NAMESPACE}.{ingestion.spec.destination.table}"
    return int(spark.sql(f"SELECT count(*) AS n FROM {name}.snapshots").collect()[0]["n"])


def ids_by_file(spark: SparkSession, ingestion: Ingestion) -> dict[str, list[int]]:
    rows = table_of(spark, ingestion).select("id", "_source_file").collect()
    found: dict[str, list[int]] = {}
    for row in rows:
        found.setdefault(row._source_file.rsplit("/", 1)[1], []).append(row.id)
    return {name: sorted(ids) for name, ids in sorted(found.items())}


def test_a_rewritten_file_replaces_its_rows_in_one_commit_and_recovers_after_a_crash(
    spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    from autoloader_ingest.batches import load_spec, recover_batch

    from autoloader_spark.load import FileToLoad, load_batch
    from autoloader_storage.uri import spark_path_of

    place.put({"a.csv": csv_ids(range(1, 4)), "b.csv": csv_ids(range(10, 12))})
    ingestion = new_ingestion(
        sessions, place, rewritten_file_policy="replace", schema_hints="id BIGINT"
    )
    ingest(sessions, spark, ingestion, place)
    assert ids_by_file(spark, ingestion) == {"a.csv": [1, 2, 3], "b.csv": [10, 11]}

    # Rewritten once: its three rows become two, in one more snapshot.
    before = snapshots_of(spark, ingestion)
    place.put({"a.csv": csv_ids(range(4, 6))})
    first = ingest(sessions, spark, ingestion, place)
    assert (first.loaded_files, first.rows) == (1, 2)
    assert ids_by_file(spark, ingestion) == {"a.csv": [4, 5], "b.csv": [10, 11]}
    assert snapshots_of(spark, ingestion) == before + 1

    # Rewritten again, beside a new file: one snapshot for both.
    place.put({"a.csv": csv_ids(range(6, 10)), "c.csv": csv_ids(range(20, 21))})
    second = ingest(sessions, spark, ingestion, place)
    assert (second.loaded_files, second.rows) == (2, 5)
    assert ids_by_file(spark, ingestion) == {
        "a.csv": [6, 7, 8, 9],
        "b.csv": [10, 11],
        "c.csv": [20],
    }
    assert snapshots_of(spark, ingestion) == before + 2
    total = table_of(spark, ingestion).selectExpr("count(*) AS n", "sum(id) AS s").collect()[0]
    assert (total.n, total.s) == (7, 6 + 7 + 8 + 9 + 10 + 11 + 20)
    files = files_by_name(sessions, ingestion)
    assert (files["a.csv"].rows_loaded, files["a.csv"].replaces_rows) == (4, False)

    # Rewritten a third time, and the worker dies between Iceberg's commit and the ledger's
    # update: recovery finds the MERGE's snapshot by the batch's rows and settles it loaded.
    place.put({"a.csv": csv_ids(range(30, 33))})
    batch = discover_and_claim(sessions, ingestion, place)
    assert batch is not None and [f.replaces_rows for f in batch.files] == [True]
    files_to_load = [
        FileToLoad(f.id, spark_path_of(f.path), f.modified_at, f.size, f.replaces_rows)
        for f in batch.files
    ]
    load_batch(spark, load_spec(ingestion), str(batch.id), files_to_load)  # no ledger update
    assert recover_batch(sessions, spark, ingestion, batch.id) is True
    assert ids_by_file(spark, ingestion) == {
        "a.csv": [30, 31, 32],
        "b.csv": [10, 11],
        "c.csv": [20],
    }
    files = files_by_name(sessions, ingestion)
    assert (files["a.csv"].status.value, files["a.csv"].rows_loaded) == ("loaded", 3)
    assert discover_and_claim(sessions, ingestion, place) is None  # nothing loads twice

    # An emptied file's rows go too.
    place.put({"b.csv": b""})
    emptied = ingest(sessions, spark, ingestion, place)
    assert emptied.failed_files == 0
    assert ids_by_file(spark, ingestion) == {"a.csv": [30, 31, 32], "c.csv": [20]}


def test_merge_upserts_by_key_across_batches_and_a_full_refresh_rebuilds_it(
    spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    import time

    from autoloader_ingest.batches import load_spec
    from autoloader_metadata.db import transaction
    from autoloader_metadata.enums import FileStatus
    from autoloader_metadata.ledger import FileLedger
    from autoloader_metadata.refresh import Refreshes

    from autoloader_spark.load import delete_batches

    def state() -> dict[int, str]:
        rows = table_of(spark, ingestion).select("id", "value").collect()
        assert len(rows) == len({r.id for r in rows}), "a key is in the table twice"
        return {r.id: r.value for r in rows}

    # Batch 1: key 1 twice in one file (its last row wins), key 2 in two files (the later
    # file wins).
    place.put(
        {
            "a.json": json_lines(
                {"id": 1, "value": "a1"}, {"id": 2, "value": "a2"}, {"id": 1, "value": "a1-last"}
            )
        }
    )
    time.sleep(1.5)
    place.put({"b.json": json_lines({"id": 2, "value": "b2"})})
    ingestion = new_ingestion(
        sessions,
        place,
        format=FileFormat.JSON,
        write_mode="merge",
        merge_keys=["id"],
        delete_when="deleted = true",
        schema_hints="deleted BOOLEAN",
        rewritten_file_policy="reload",
    )
    first = ingest(sessions, spark, ingestion, place)
    assert state() == {1: "a1-last", 2: "b2"}
    assert first.rows == 2  # rows the batch wrote

    # Batch 2: a new key, an update.
    place.put({"c.json": json_lines({"id": 3, "value": "c3"}, {"id": 1, "value": "c1"})})
    ingest(sessions, spark, ingestion, place)
    assert state() == {1: "c1", 2: "b2", 3: "c3"}

    # Batch 3: delete markers (one for a key the table lacks: nothing is inserted) and an
    # update.
    place.put(
        {
            "d.json": json_lines(
                {"id": 2, "deleted": True},
                {"id": 4, "value": "gone", "deleted": True},
                {"id": 3, "value": "d3", "deleted": False},
            )
        }
    )
    ingest(sessions, spark, ingestion, place)
    assert state() == {1: "c1", 3: "d3"}
    snapshots = spark.sql(
        f"SELECT operation FROM lake.{NAMESPACE}.{ingestion.spec.destination.table}.snapshots"
    ).collect()
    assert len(snapshots) == 3  # one commit per batch

    # A full refresh deletes every batch's rows and loads every file again, oldest first.
    with sessions() as session:
        batch_ids = Refreshes(session).loaded_batches(ingestion.id)
    deleted = delete_batches(spark, load_spec(ingestion), [str(b) for b in batch_ids])
    assert deleted == 2
    assert state() == {}
    with transaction(sessions) as session:
        assert FileLedger(session).reprocess(ingestion.id, statuses=[FileStatus.LOADED]) == 4
    rebuilt = ingest(sessions, spark, ingestion, place)
    assert rebuilt.loaded_files == 4
    assert state() == {1: "c1", 3: "d3"}


def test_a_parquet_merge_keeps_a_keys_last_row_by_row_index(
    spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    rows = [(1, "first"), (2, "only"), (1, "second"), (1, "last")]
    spark.createDataFrame(rows, "id BIGINT, value STRING").coalesce(1).write.parquet(
        f"s3a://{place.root}/1"
    )
    ingestion = new_ingestion(
        sessions,
        place,
        format=FileFormat.PARQUET,
        source_glob="**/*.parquet",
        write_mode="merge",
        merge_keys=["id"],
    )
    result = ingest(sessions, spark, ingestion, place)

    table = table_of(spark, ingestion)
    assert sorted(tuple(r) for r in table.select("id", "value").collect()) == [
        (1, "last"),
        (2, "only"),
    ]
    assert "__autoloader_row" not in table.columns
    assert result.rows == 2
