"""Source cleanup (`source.after_load`) through the API and real runs on the stack: files are
deleted or moved only once loaded and past their retention, the ledger says when and where, and
a credential that may not delete gets a warning at preview and a recorded, retried failure that
neither fails nor repeats the load."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_process import ApiProcess, api_environment, ingestion_body, run_now
from prefect_workers import WorkerProcess
from pyspark.sql import SparkSession
from stores import Place, new_place
from support import StackFactory, csv_of, s3_options

from autoloader_storage.filesystems import filesystem_for

READ_ONLY = "IT_PUBLIC"  # anonymous access to a bucket whose policy lets anyone read


@pytest.fixture(scope="module")
def stack(services: StackFactory, prefect_settings: dict[str, str]) -> dict[str, str]:
    return services("prefect", "spark")


@pytest.fixture(scope="module")
def public_place(stack: dict[str, str]) -> Place:
    """A bucket anyone may list and read, and no one may write without keys."""
    fs = filesystem_for("s3://", **s3_options(stack))
    bucket = f"it-public-{uuid.uuid4().hex[:10]}"
    fs.call_s3("create_bucket", Bucket=bucket)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ["*"]},
                "Action": ["s3:GetBucketLocation", "s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{bucket}"],
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": ["*"]},
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{bucket}/*"],
            },
        ],
    }
    fs.call_s3("put_bucket_policy", Bucket=bucket, Policy=json.dumps(policy))
    environ = {
        f"{READ_ONLY}_ENDPOINT_URL": stack["AUTOLOADER_S3_ENDPOINT"],
        f"{READ_ONLY}_REGION": stack["AUTOLOADER_S3_REGION"],
        f"{READ_ONLY}_ANONYMOUS": "true",
    }
    return Place("s3", f"s3://{bucket}/data", f"env:{READ_ONLY}", environ, fs, f"{bucket}/data")


@pytest.fixture(scope="module")
def environment(stack: dict[str, str], place: Place, public_place: Place) -> dict[str, str]:
    return api_environment(
        stack,
        "it_cleanup",
        **place.environ,
        **public_place.environ,
        AUTOLOADER_TASK_RETRIES="0",
    )


@pytest.fixture(scope="module")
def client(api: ApiProcess) -> Iterator[httpx.Client]:
    _, key = api.tenant(scopes=("write",))
    with api.client(key) as session:
        yield session


def create(client: httpx.Client, place: Place, **source: Any) -> str:
    body = ingestion_body(place, f"t_{uuid.uuid4().hex[:10]}")
    body["source"] = {**body["source"], **source}
    created = client.post("/api/v1/ingestions", json=body)
    assert created.status_code == 201, created.text
    assert {k: created.json()["source"][k] for k in source} == source
    return str(created.json()["id"])


def table_ids(spark: SparkSession, client: httpx.Client, ingestion_id: str) -> list[int]:
    table = client.get(f"/api/v1/ingestions/{ingestion_id}").json()["destination"]["table"]
    name = f"lake.it_api.{table}"
    spark.catalog.refreshTable(name)
    return sorted(row.id for row in spark.table(name).select("id").collect())


def files(client: httpx.Client, ingestion_id: str, place: Place) -> dict[str, dict[str, Any]]:
    """The ingestion's files by path below the place."""
    listed = client.get(f"/api/v1/ingestions/{ingestion_id}/files", params={"limit": 200})
    assert listed.status_code == 200, listed.text
    return {f["path"][len(place.uri) + 1 :]: f for f in listed.json()["items"]}


def present(place: Place) -> set[str]:
    place.fs.invalidate_cache()
    return {path[len(place.root) + 1 :] for path in place.fs.find(place.root)}


def counts(run: dict[str, Any]) -> tuple[Any, ...]:
    return run["files_loaded"], run["files_failed"], run["files_cleaned"], run["cleanup_failures"]


def test_delete_waits_for_the_retention_and_removes_only_loaded_files(
    stack: dict[str, str],
    worker: WorkerProcess,
    client: httpx.Client,
    spark: SparkSession,
    tmp_path: Path,
) -> None:
    place = new_place("s3", stack, tmp_path)
    place.put(
        {
            "a.csv": csv_of(range(1, 4)),
            "b.csv": csv_of(range(4, 7)),
            "bad.csv": b"id,name,amount\nseven,x,y\n",
        }
    )
    ingestion_id = create(client, place, after_load="delete", retain_seconds=3600)

    # Loaded, but within the retention: every file stays.
    run = run_now(client, ingestion_id, worker)
    assert counts(run) == (2, 1, 0, 0), worker.tail()
    assert present(place) == {"a.csv", "b.csv", "bad.csv"}

    # Retention over: the loaded files go, the failed one stays; nothing loads again.
    changed = client.patch(
        f"/api/v1/ingestions/{ingestion_id}", json={"source": {"retain_seconds": 0}}
    )
    assert changed.status_code == 200, changed.text
    run = run_now(client, ingestion_id, worker)
    assert counts(run) == (0, 0, 2, 0), worker.tail()
    assert "source cleanup: 2 files done" in run["message"]
    assert present(place) == {"bad.csv"}
    ledger = files(client, ingestion_id, place)
    assert ledger["a.csv"]["cleaned_at"] and ledger["b.csv"]["cleaned_at"]
    assert ledger["a.csv"]["cleaned_to"] is None and ledger["a.csv"]["cleanup_error"] is None
    assert ledger["bad.csv"]["status"] == "failed" and ledger["bad.csv"]["cleaned_at"] is None
    assert table_ids(spark, client, ingestion_id) == list(range(1, 7))

    # A new delivery at a cleaned path loads (the policy for rewritten files is `ignore`), and
    # is cleaned up in turn.
    place.put({"a.csv": csv_of(range(7, 9))})
    run = run_now(client, ingestion_id, worker)
    assert counts(run) == (1, 0, 1, 0), worker.tail()
    assert table_ids(spark, client, ingestion_id) == list(range(1, 9))
    assert present(place) == {"bad.csv"}

    # The files are gone: a full refresh could not load them again.
    refresh = client.post(f"/api/v1/ingestions/{ingestion_id}/refresh/full", json={"confirm": True})
    assert refresh.status_code == 409, refresh.text
    assert "source cleanup" in refresh.json()["detail"]


def test_move_keeps_each_path_below_the_archive_which_is_not_listed_again(
    stack: dict[str, str],
    worker: WorkerProcess,
    client: httpx.Client,
    spark: SparkSession,
    tmp_path: Path,
) -> None:
    place = new_place("s3", stack, tmp_path)
    place.put({"2026/a.csv": csv_of(range(1, 4)), "b.csv": csv_of(range(4, 6))})
    ingestion_id = create(
        client,
        place,
        glob="**/*.csv",
        after_load="move",
        archive_uri=f"{place.uri}/_archive",
    )
    run = run_now(client, ingestion_id, worker)
    assert counts(run) == (2, 0, 2, 0), worker.tail()
    assert present(place) == {"_archive/2026/a.csv", "_archive/b.csv"}
    assert place.fs.cat(f"{place.root}/_archive/2026/a.csv") == csv_of(range(1, 4))
    ledger = files(client, ingestion_id, place)
    assert ledger["2026/a.csv"]["cleaned_to"] == f"{place.uri}/_archive/2026/a.csv"

    run = run_now(client, ingestion_id, worker)
    assert counts(run) == (0, 0, 0, 0), worker.tail()
    assert table_ids(spark, client, ingestion_id) == list(range(1, 6))


def test_a_credential_that_cannot_delete_is_warned_at_preview_and_never_fails_the_load(
    worker: WorkerProcess, client: httpx.Client, spark: SparkSession, public_place: Place
) -> None:
    public_place.put({"a.csv": csv_of(range(1, 4))})
    unsaved = ingestion_body(public_place, f"t_{uuid.uuid4().hex[:10]}")
    unsaved.pop("name")
    unsaved["source"] = {**unsaved["source"], "after_load": "delete"}
    preview = client.post("/api/v1/ingestions/preview", json=unsaved)
    assert preview.status_code == 200, preview.text
    [warning] = preview.json()["warnings"]
    assert "cannot write and delete" in warning and "access denied" in warning
    kept = client.post(
        "/api/v1/ingestions/preview",
        json={**unsaved, "source": {**unsaved["source"], "after_load": "keep"}},
    )
    assert kept.status_code == 200 and kept.json()["warnings"] == [], kept.text

    ingestion_id = create(client, public_place, after_load="delete")
    for _ in range(2):  # the failure is retried by each run, and the file never loads again
        run = run_now(client, ingestion_id, worker)
        assert run["state"] == "COMPLETED", worker.tail()
        assert counts(run)[1:] == (0, 0, 1)
        assert table_ids(spark, client, ingestion_id) == [1, 2, 3]
    assert counts(run)[0] == 0
    assert present(public_place) == {"a.csv"}
    [file] = files(client, ingestion_id, public_place).values()
    assert file["status"] == "loaded" and file["cleaned_at"] is None
    assert "access denied" in file["cleanup_error"]
