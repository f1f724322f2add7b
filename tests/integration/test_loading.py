"""Loading into Iceberg through Spark Connect on the real stack: formats, evolution, bad files,
and exactly-once across a crash between the Iceberg commit and the ledger update."""

from __future__ import annotations

import logging
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import load_workers
import pytest
from autoloader_discovery.discover import discover
from autoloader_ingest.batches import load_claimed_batch, recover_batch
from autoloader_metadata.db import transaction
from autoloader_metadata.enums import FileFormat, FileStatus, SchemaEvolution
from autoloader_metadata.ledger import FileLedger
from autoloader_metadata.models import LedgerFile, SchemaVersion
from autoloader_model.ingestion import Ingestion
from loading_support import LATER, discover_and_claim, ingest, new_ingestion, spark_access
from pyspark.sql import Row, SparkSession
from pyspark.sql.connect.dataframe import DataFrame as ConnectDataFrame
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from stores import Place, new_place
from support import StackFactory, migrated_database

from autoloader_spark.paths import load_files
from autoloader_spark.session import cluster_parallelism
from autoloader_storage.uri import spark_path_of

ROWS = [(1, "alpha", 10.5), (2, "beta", 20.25), (3, "gamma", 30.0)]
DDL = "id INT, name STRING, amount DOUBLE"


@pytest.fixture(scope="module")
def stack(services: StackFactory) -> dict[str, str]:
    return services("spark")


@pytest.fixture(scope="module")
def spark(spark_everywhere: SparkSession) -> SparkSession:
    """Each test runs on `local[*]` and on the standalone cluster (conftest.SPARK_SETUPS)."""
    return spark_everywhere


@pytest.fixture(scope="module")
def database(stack: dict[str, str]) -> str:
    return migrated_database(stack["AUTOLOADER_DATABASE_URL"], "it_loading")


@pytest.fixture
def place(stack: dict[str, str], tmp_path: Path) -> Place:
    return new_place("s3", stack, tmp_path)


def rows_of(
    spark: SparkSession, ingestion: Ingestion, columns: str = "id, name, amount"
) -> list[tuple[Any, ...]]:
    table = f"lake.it_loading.{ingestion.spec.destination.table}"
    return sorted(tuple(r) for r in spark.sql(f"SELECT {columns} FROM {table}").collect())


def csv(rows: list[tuple[Any, ...]], header: str = "id,name,amount") -> bytes:
    return (header + "\n" + "".join(",".join(map(str, r)) + "\n" for r in rows)).encode()


def write_with_spark(
    spark: SparkSession, fmt: str, place: Place, rows: list[tuple[Any, ...]]
) -> None:
    frame = spark.createDataFrame([Row(id=i, name=n, amount=a) for i, n, a in rows], DDL)
    frame.coalesce(1).write.format(fmt).mode("overwrite").save(f"s3a://{place.root}/part")


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet", "avro", "orc"])
def test_each_format_loads_exact_rows_and_values(
    fmt: str, spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    if fmt == "csv":
        place.put({"a.csv": csv(ROWS[:2]), "b.csv.gz": _gzip(csv(ROWS[2:]))})
    elif fmt == "json":
        lines = [f'{{"id": {i}, "name": "{n}", "amount": {a}}}' for i, n, a in ROWS]
        place.put({"a.json": "\n".join(lines[:2]).encode(), "b.json": lines[2].encode()})
    else:
        write_with_spark(spark, fmt, place, ROWS)  # also writes _SUCCESS, which is skipped
    ingestion = new_ingestion(sessions, place, format=FileFormat(fmt), schema_ddl=DDL)

    result = ingest(sessions, spark, ingestion, place)

    assert result.failed_files == 0 and result.rows == 3
    assert rows_of(spark, ingestion) == ROWS
    meta = spark.sql(
        f"SELECT DISTINCT _batch_id, _source_file FROM lake.it_loading.{ingestion.spec.destination.table}"
    ).collect()
    assert {r["_batch_id"] for r in meta} == {str(result.batch_id)}
    assert all(r["_source_file"].startswith(f"s3a://{place.root}/") for r in meta)


def test_a_second_batch_appends_only_the_new_rows(
    spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    ingestion = new_ingestion(sessions, place, schema_ddl=DDL)
    place.put({"1.csv": csv(ROWS[:1]), "2.csv": csv(ROWS[1:2])})
    first = ingest(sessions, spark, ingestion, place)
    place.put({"3.csv": csv(ROWS[2:])})

    second = ingest(sessions, spark, ingestion, place)

    assert (first.rows, second.rows) == (2, 1)
    assert rows_of(spark, ingestion) == ROWS
    with transaction(sessions) as session:
        assert FileLedger(session).counts(ingestion.id) == {FileStatus.LOADED: 3}
        assert discover(session, ingestion, LATER, place.environ).new == []


EXTRA = [(4, "delta", 40.0, "red", "XL")]


@pytest.mark.parametrize("mode", list(SchemaEvolution))
def test_schema_evolution_modes_on_a_file_with_two_extra_columns(
    mode: SchemaEvolution, spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    ingestion = new_ingestion(sessions, place, format=FileFormat.JSON, schema_evolution=mode)
    place.put({"1.json": b'{"id": 1, "name": "alpha", "amount": 10.5}\n'})
    ingest(sessions, spark, ingestion, place)
    place.put(
        {"2.json": b'{"id": 4, "name": "delta", "amount": 40.0, "color": "red", "size": "XL"}\n'}
    )

    second = ingest(sessions, spark, ingestion, place)

    table = f"lake.it_loading.{ingestion.spec.destination.table}"
    columns = spark.table(table).columns
    if mode is SchemaEvolution.ADD_NEW_COLUMNS:
        assert {"color", "size"} <= set(columns)
        assert rows_of(spark, ingestion, "id, color, size") == [(1, None, None), (4, "red", "XL")]
        with sessions() as session:
            versions = session.scalars(
                select(SchemaVersion)
                .where(SchemaVersion.ingestion_id == ingestion.id)
                .order_by(SchemaVersion.version)
            ).all()
        assert [v.trigger for v in versions] == ["first batch", "new columns"]
        assert versions[1].change == {"added_columns": ["color", "size"]}
    elif mode is SchemaEvolution.RESCUE:
        assert "color" not in columns
        rescued = rows_of(spark, ingestion, "id, _rescued_data")
        assert rescued == [(1, None), (4, '{"color":"red","size":"XL"}')]
    elif mode is SchemaEvolution.FAIL_ON_NEW_COLUMNS:
        assert second.failed_files == 1 and second.snapshot_id is None
        assert rows_of(spark, ingestion, "id") == [(1,)]
        with sessions() as session:
            error = session.scalar(
                select(LedgerFile.last_error)
                .where(LedgerFile.path.endswith("2.json"))
                .where(LedgerFile.ingestion_id == ingestion.id)
            )
        assert error is not None and "color, size" in error
    else:
        assert "color" not in columns and "_rescued_data" not in columns
        assert rows_of(spark, ingestion, "id") == [(1,), (4,)]


def test_a_corrupt_file_fails_with_its_reason_while_the_rest_load(
    spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    write_with_spark(spark, "parquet", place, ROWS)
    place.put({"broken.parquet": b"PAR1 this is not really parquet PAR1"})
    ingestion = new_ingestion(sessions, place, format=FileFormat.PARQUET, schema_ddl=DDL)

    result = ingest(sessions, spark, ingestion, place)

    assert (result.loaded_files, result.failed_files, result.rows) == (1, 1, 3)
    assert rows_of(spark, ingestion) == ROWS
    with sessions() as session:
        failed = session.scalars(
            select(LedgerFile).where(
                LedgerFile.ingestion_id == ingestion.id, LedgerFile.status == FileStatus.FAILED
            )
        ).all()
    assert [f.path.rsplit("/", 1)[1] for f in failed] == ["broken.parquet"]
    assert failed[0].last_error and "corrupted file" in failed[0].last_error
    print(f"reason recorded: {failed[0].last_error}")


@pytest.mark.parametrize("rule", ["keep", "drop", "fail"])
def test_corrupt_records_follow_the_ingestions_rule(
    rule: str, spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    place.put({"a.csv": csv(ROWS[:2]), "b.csv": csv([ROWS[2], ("x", "bad", "y")])})
    ingestion = new_ingestion(
        sessions, place, schema_ddl=DDL, format_options={"corruptRecords": rule}
    )

    result = ingest(sessions, spark, ingestion, place)

    if rule == "keep":
        assert result.rows == 4
        kept = rows_of(spark, ingestion, "coalesce(id, -1), _corrupt_record IS NOT NULL")
        assert kept == [(-1, True), (1, False), (2, False), (3, False)]
    elif rule == "drop":
        assert result.rows == 3 and rows_of(spark, ingestion) == ROWS
        assert result.dropped_records == 1
    else:
        assert (result.rows, result.failed_files) == (2, 1)
        with sessions() as session:
            error = session.scalar(
                select(LedgerFile.last_error).where(
                    LedgerFile.ingestion_id == ingestion.id, LedgerFile.status == FileStatus.FAILED
                )
            )
        assert error is not None and "FAILED_READ_FILE" in error
        print(f"reason recorded: {error}")


def test_a_crash_after_the_commit_is_recovered_without_loading_twice(
    spark: SparkSession,
    sessions: sessionmaker[Session],
    place: Place,
    database: str,
    stack: dict[str, str],
) -> None:
    rows = [(i, f"name-{i}", float(i)) for i in range(1, 301)]
    place.put({f"{n}.csv": csv(rows[n * 100 : (n + 1) * 100]) for n in range(3)})
    ingestion = new_ingestion(sessions, place, schema_ddl=DDL)
    with transaction(sessions) as session:
        discover(session, ingestion, LATER, place.environ)

    worker = subprocess.run(
        [
            sys.executable,
            Path(load_workers.__file__).as_posix(),
            database,
            str(ingestion.id),
            stack["AUTOLOADER_SPARK_REMOTE"],
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert worker.returncode == -9, worker.stderr[-2000:]
    batch_id = uuid.UUID(worker.stdout.strip().splitlines()[0])
    with transaction(sessions) as session:
        assert FileLedger(session).claim_batch(ingestion.id, 100, 10**12) is None  # still claimed

    assert recover_batch(sessions, spark, ingestion, batch_id) is True
    assert discover_and_claim(sessions, ingestion, place) is None  # nothing left to load

    table = f"lake.it_loading.{ingestion.spec.destination.table}"
    count, checksum = spark.sql(f"SELECT count(*), sum(id) FROM {table}").first() or (0, 0)
    assert (count, checksum) == (300, sum(range(1, 301)))
    with sessions() as session:
        loaded = session.scalars(
            select(LedgerFile.rows_loaded).where(LedgerFile.ingestion_id == ingestion.id)
        ).all()
    assert sorted(rows or 0 for rows in loaded) == [100, 100, 100]


def test_a_crash_before_the_commit_releases_the_files_to_load_once(
    spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    place.put({"a.csv": csv(ROWS)})
    ingestion = new_ingestion(sessions, place, schema_ddl=DDL)
    dead = discover_and_claim(sessions, ingestion, place)  # claimed, then the process "died"

    assert recover_batch(sessions, spark, ingestion, dead.id) is False
    result = ingest(sessions, spark, ingestion, place)

    assert result.rows == 3 and rows_of(spark, ingestion) == ROWS


def _gzip(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data)


def test_a_preview_of_ten_files_shows_schema_diff_and_rows_and_writes_nothing(
    spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    from autoloader_ingest.preview import preview_ingestion

    place.put(
        {
            f"{n:02d}.json": f'{{"id": {n}, "name": "n{n}", "color": "c"}}\n'.encode()
            for n in range(12)
        }
    )
    loaded = new_ingestion(sessions, place, format=FileFormat.JSON)
    place.put({"seed/0.json": b'{"id": 100, "name": "seed"}\n'})
    seed = Place(
        place.kind,
        f"{place.uri}/seed",
        place.credential_ref,
        place.environ,
        place.fs,
        f"{place.root}/seed",
    )
    seeded = new_ingestion(
        sessions,
        seed,
        loaded.tenant_id,
        format=FileFormat.JSON,
        destination_table=loaded.spec.destination.table,
    )
    ingest(sessions, spark, seeded, seed)  # the table exists with columns id and name

    shown = preview_ingestion(
        spark, loaded, max_files=10, limit=5, environ=place.environ, now=LATER
    )

    print(f"preview of {len(shown.sampled_files)} files took {shown.seconds:.2f} s")
    assert shown.matching_files == 13 and len(shown.sampled_files) == 10
    assert ("color", "string") in shown.result.columns
    assert shown.result.table_exists and shown.result.diff.new_columns == ["color"]
    assert len(shown.result.rows) == 5 and {"id", "name", "color"} <= set(shown.result.rows[0])
    assert rows_of(spark, seeded, "id") == [(100,)]  # nothing was written
    with transaction(sessions) as session:
        assert FileLedger(session).counts(loaded.id) == {}


def test_many_files_read_by_folder_load_only_the_batch(
    spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    def files(start: int) -> dict[str, bytes]:
        batch = {
            f"in/f-{i:03d}.csv": csv([(i, f"n{i}", float(i))]) for i in range(start, start + 70)
        }
        batch[f"in/with space {start}.csv"] = csv([(1000 + start, "spaced", 1.0)])
        batch[f"in/ümlaut (1)! {start}.csv"] = csv([(2000 + start, "odd", 1.0)])
        return batch

    ingestion = new_ingestion(sessions, place, schema_ddl=DDL)
    place.put(files(0))
    first = ingest(sessions, spark, ingestion, place)
    place.put(files(100))  # the folder now holds the first batch's files too

    second = ingest(sessions, spark, ingestion, place)

    assert (first.rows, second.rows) == (72, 72)
    ids = [row[0] for row in rows_of(spark, ingestion, "id")]
    assert len(ids) == len(set(ids)) == 144
    with transaction(sessions) as session:
        assert FileLedger(session).counts(ingestion.id) == {FileStatus.LOADED: 144}


def test_a_batch_of_many_small_files_writes_one_data_file_per_core(
    spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    """Spark reads small files about 32 to a task and each task writes a data file (300 files
    would make 10); the batch's read is merged to one task per core instead."""
    place.put({f"in/f-{i:03d}.csv": csv([(i, f"n{i}", float(i))]) for i in range(300)})
    ingestion = new_ingestion(sessions, place, schema_ddl=DDL)

    result = ingest(sessions, spark, ingestion, place)

    table = f"lake.it_loading.{ingestion.spec.destination.table}"
    data_files = spark.sql(f"SELECT count(*) FROM {table}.files").first()
    assert data_files is not None and 1 <= data_files[0] <= cluster_parallelism(spark) < 10
    assert result.rows == 300
    assert [row[0] for row in rows_of(spark, ingestion, "id")] == list(range(300))
    with transaction(sessions) as session:
        assert FileLedger(session).counts(ingestion.id) == {FileStatus.LOADED: 300}


@pytest.mark.parametrize("kind", ["s3", "local"])
def test_a_lone_files_lineage_columns_read_as_spark_reports_them(
    kind: str,
    spark: SparkSession,
    sessions: sessionmaker[Session],
    stack: dict[str, str],
    tmp_path: Path,
) -> None:
    """A batch of one file gets its path and time as constants rather than from Spark's _metadata
    column (which a batch of many uses); both must read the same, odd file names included."""
    place = new_place(kind, stack, tmp_path)
    names = [
        "plain.csv",
        "with space.csv",
        "100%.csv",
        "a#b?c.csv",
        "ümlaut (1)!'.csv",
        "n\u00a0b.csv",
        "x[1].csv",
        "x1.csv",
        "b{2}*.csv",
    ]
    if kind == "s3":  # Hadoop's local file system cannot read a name with a colon
        names.append("at 2026-11-29T10:00:00.csv")
    place.put({f"in/{name}": csv([(i, name, 1.0)]) for i, name in enumerate(names)})
    ingestion = new_ingestion(sessions, place, schema_ddl=DDL)
    with transaction(sessions) as session:
        discover(session, ingestion, LATER, place.environ)
    for _ in names:
        with transaction(sessions) as session:
            batch = FileLedger(session).claim_batch(ingestion.id, 1, 10**12)
        assert batch is not None and len(batch.files) == 1
        assert (
            load_claimed_batch(
                sessions, spark, ingestion, batch, access=spark_access(ingestion, place)
            ).rows
            == 1
        )

    loaded = rows_of(spark, ingestion, "id, _source_file, _source_modified_at")
    as_spark_reports = load_files(
        spark.read.format("csv").schema(DDL).option("header", "true"),
        [spark_path_of(place.uri + "/in/" + name) for name in names],
    )
    reported = as_spark_reports.select(
        "id", "_metadata.file_path", "_metadata.file_modification_time"
    ).collect()
    assert len(loaded) == len(names)
    # Stores give a file's time in whole seconds (S3's HEAD, which Spark uses for a named file)
    # or finer (a listing, which the ledger uses): the times agree to the second.
    assert [(i, path, at.replace(microsecond=0)) for i, path, at in loaded] == sorted(
        (row[0], row[1], row[2].replace(microsecond=0)) for row in reported
    )


def test_files_missing_from_the_folder_listing_are_read_one_by_one(
    spark: SparkSession,
    sessions: sessionmaker[Session],
    place: Place,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Were Spark's listing to name a file otherwise than expected, the path filter would miss
    it and the file would pass for empty: the load reads the files one by one instead."""
    listed = ConnectDataFrame.inputFiles

    def listing_without_one(frame: ConnectDataFrame) -> list[str]:
        return [path for path in listed(frame) if not path.endswith("/f-007.csv")]

    monkeypatch.setattr(ConnectDataFrame, "inputFiles", listing_without_one)
    ingestion = new_ingestion(sessions, place, schema_ddl=DDL)
    place.put({f"in/f-{i:03d}.csv": csv([(i, f"n{i}", float(i))]) for i in range(70)})

    with caplog.at_level(logging.WARNING, logger="autoloader_spark.load"):
        loaded = ingest(sessions, spark, ingestion, place)

    assert loaded.rows == 70 and len(rows_of(spark, ingestion, "id")) == 70
    assert "reading the files one by one" in caplog.text


def test_file_names_are_read_as_names_not_patterns(
    spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    """Spark globs the paths it reads: unescaped, x[1].csv would load x1.csv's rows (twice over,
    with x1.csv's own batch), a?c.csv would load abc.csv too, and a name with a colon next to
    them would fail the listing the glob makes."""
    names = ["x[1].csv", "x1.csv", "a?c.csv", "abc.csv", "s{1,2}*.csv", "s1.csv", "at 10:00.csv"]
    place.put({f"in/{name}": csv([(i, f"file {i}", 1.0)]) for i, name in enumerate(names)})
    ingestion = new_ingestion(sessions, place, schema_ddl=DDL)

    loaded = ingest(sessions, spark, ingestion, place)

    assert (loaded.loaded_files, loaded.failed_files, loaded.rows) == (7, 0, 7)
    assert rows_of(spark, ingestion, "id") == [(i,) for i in range(len(names))]


def test_hive_style_folders_load_with_the_files_columns_only(
    spark: SparkSession, sessions: sessionmaker[Session], place: Place
) -> None:
    """Landing zones are often laid out day=…/hour=…: a batch across such folders (of unequal
    depth) loads its files' columns, without partition columns Spark might infer from them."""
    place.put(
        {
            "in/day=2026-11-28/a.csv": csv([(1, "a", 1.0)]),
            "in/day=2026-11-29/b.csv": csv([(2, "b", 2.0)]),
            "in/day=2026-11-29/hour=10/c.csv": csv([(3, "c", 3.0)]),
        }
    )
    ingestion = new_ingestion(sessions, place, schema_ddl=DDL)

    loaded = ingest(sessions, spark, ingestion, place)

    assert (loaded.loaded_files, loaded.failed_files, loaded.rows) == (3, 0, 3)
    columns = spark.table(f"lake.it_loading.{ingestion.spec.destination.table}").columns
    assert "day" not in columns and "hour" not in columns  # no partition columns inferred
    assert rows_of(spark, ingestion) == [(1, "a", 1.0), (2, "b", 2.0), (3, "c", 3.0)]


def test_a_full_refresh_deletes_only_its_own_ingestions_rows_in_a_shared_table(
    spark: SparkSession,
    sessions: sessionmaker[Session],
    place: Place,
    stack: dict[str, str],
    tmp_path: Path,
) -> None:
    """Two ingestions of one tenant may load one table; a full refresh of one deletes the rows
    of its batches only."""
    from autoloader_ingest.batches import load_spec
    from autoloader_metadata.refresh import Refreshes

    from autoloader_spark.load import delete_batches

    place.put({"a.csv": csv(ROWS[:2])})
    first = new_ingestion(sessions, place, schema_ddl=DDL)
    other_place = new_place("s3", stack, tmp_path)
    other_place.put({"b.csv": csv(ROWS[2:])})
    second = new_ingestion(
        sessions,
        other_place,
        first.tenant_id,
        schema_ddl=DDL,
        destination_table=first.spec.destination.table,
    )
    ingest(sessions, spark, first, place)
    ingest(sessions, spark, second, other_place)
    assert rows_of(spark, first) == ROWS

    with sessions() as session:
        batches = Refreshes(session).loaded_batches(first.id)
    deleted = delete_batches(spark, load_spec(first), [str(b) for b in batches])

    assert deleted == 2
    assert rows_of(spark, first) == ROWS[2:]  # the second ingestion's row stays
