"""A data engineer's day through the REST API, over HTTP, on the real stack: PostgreSQL, a
Prefect server and worker, the S3 store, and Spark Connect with Iceberg."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from api_process import ApiProcess, api_environment, finished_run, ingestion_body, run_now
from autoloader_metadata.db import make_engine
from autoloader_orchestration.deployments import Deployments
from prefect_workers import WorkerProcess
from pyspark.sql import SparkSession
from sqlalchemy import text
from stores import Place
from support import StackFactory, csv_of, prefect_call

from autoloader_api.schemas import IngestionSpec


@pytest.fixture(scope="module")
def stack(services: StackFactory, prefect_settings: dict[str, str]) -> dict[str, str]:
    return services("prefect", "spark")


@pytest.fixture(scope="module")
def environment(stack: dict[str, str], place: Place) -> dict[str, str]:
    return api_environment(stack, "it_api", **place.environ, AUTOLOADER_TASK_RETRIES="0")


def table_ids(spark: SparkSession, table: str) -> list[int]:
    name = f"lake.it_api.{table}"
    spark.catalog.refreshTable(name)
    return sorted(row.id for row in spark.table(name).select("id").collect())


def test_a_day_with_the_api(
    api: ApiProcess, worker: WorkerProcess, place: Place, spark: SparkSession
) -> None:
    _, key = api.tenant(scopes=("write",))
    client = api.client(key)
    table = f"t_{uuid.uuid4().hex[:10]}"
    place.put({"a.csv": csv_of(range(1, 4)), "b.csv": csv_of(range(4, 7))})

    # The configured Spark Connect cluster answers a connection test.
    [cluster] = client.get("/api/v1/clusters").json()
    assert cluster["name"] == "default" and ";token" not in cluster["endpoint"]
    tested = client.post("/api/v1/clusters/default/test").json()
    assert tested["reachable"] is True, tested

    # Create an ingestion over an S3 prefix: stored with its deployment.
    body = ingestion_body(place, table)
    created = client.post("/api/v1/ingestions", json=body)
    assert created.status_code == 201, created.text
    ingestion = created.json()
    ingestion_id = ingestion["id"]
    assert ingestion["status"] == "active" and ingestion["deployment_id"]
    assert created.headers["Location"].endswith(ingestion_id)
    # The answer holds what was asked, defaults filled in; an empty PATCH (which reads the row
    # back into the model and merges into it) changes none of it.
    asked = IngestionSpec.model_validate(body).model_dump(mode="json")
    spec_fields = ("name", "source", "format", "destination", "schedule", "batch", "work_queue")
    assert {k: ingestion[k] for k in spec_fields} == {k: asked[k] for k in spec_fields}
    unchanged = client.patch(f"/api/v1/ingestions/{ingestion_id}", json={})
    assert unchanged.status_code == 200, unchanged.text
    assert {k: unchanged.json()[k] for k in spec_fields} == {k: asked[k] for k in spec_fields}

    # Run it; read its run, its logs and its files.
    run = run_now(client, ingestion_id, worker)
    assert run["state"] == "COMPLETED", worker.tail()
    assert (run["files_loaded"], run["rows"], run["files_failed"]) == (2, 6, 0)
    assert run["trigger"] == "manual" and run["work_queue"] == "priority"
    logs = client.get(f"/api/v1/runs/{run['id']}/logs").json()["items"]
    assert any("listed 2 files" in line["message"] for line in logs), logs
    files = client.get(f"/api/v1/ingestions/{ingestion_id}/files").json()
    assert files["pagination"]["total"] == 2
    assert {
        (f["path"].rsplit("/", 1)[1], f["status"], f["rows_loaded"]) for f in files["items"]
    } == {
        ("a.csv", "loaded", 3),
        ("b.csv", "loaded", 3),
    }
    assert table_ids(spark, table) == list(range(1, 7))
    listed = client.get(f"/api/v1/ingestions/{ingestion_id}/runs").json()
    assert [r["id"] for r in listed["items"]] == [run["id"]]

    # Preview the saved ingestion and an unsaved spec: schema, rows, matching files.
    preview = client.post(f"/api/v1/ingestions/{ingestion_id}/preview", json={"max_files": 10})
    assert preview.status_code == 200, preview.text
    assert preview.json()["matching_files"] == 2
    assert [c["name"] for c in preview.json()["columns"]][:3] == ["id", "name", "amount"]
    unsaved = ingestion_body(place, f"{table}_new")
    unsaved.pop("name")
    preview = client.post("/api/v1/ingestions/preview", json={**unsaved, "limit": 4})
    assert preview.status_code == 200, preview.text
    assert preview.json()["table_exists"] is False and len(preview.json()["rows"]) == 4

    # New files arrive, one of them bad: the next run loads the good one and names the bad.
    place.put({"c.csv": csv_of(range(7, 10)), "bad.csv": b"id,name,amount\nseven,x,y\n"})
    first = client.post(f"/api/v1/ingestions/{ingestion_id}/run", headers={"Idempotency-Key": "k1"})
    again = client.post(f"/api/v1/ingestions/{ingestion_id}/run", headers={"Idempotency-Key": "k1"})
    assert first.json()["run_id"] == again.json()["run_id"]
    run = finished_run(client, first.json()["run_id"], worker)
    assert run["state_name"] == "Completed with failures", run
    assert (run["files_loaded"], run["rows"], run["files_failed"]) == (1, 3, 1)
    assert run["failures"][0]["path"].endswith("bad.csv") and run["failures"][0]["error"]
    assert table_ids(spark, table) == list(range(1, 10))

    # Change the schedule: a bad cron is refused by name; a good one is stored.
    bad = client.patch(f"/api/v1/ingestions/{ingestion_id}/schedule", json={"cron": "61 * * * *"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "cron"], bad.text
    changed = client.patch(
        f"/api/v1/ingestions/{ingestion_id}/schedule",
        json={"cron": "0 3 * * *", "timezone": "Europe/Paris"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["schedule"] == {"cron": "0 3 * * *", "timezone": "Europe/Paris"}

    # Pause: no manual run either; resume.
    assert client.post(f"/api/v1/ingestions/{ingestion_id}/pause").json()["status"] == "paused"
    assert client.post(f"/api/v1/ingestions/{ingestion_id}/run").status_code == 409
    assert client.post(f"/api/v1/ingestions/{ingestion_id}/resume").json()["status"] == "active"

    # Fix the bad file and reprocess it.
    failed = client.get(f"/api/v1/ingestions/{ingestion_id}/files", params={"status": "failed"})
    [bad_file] = failed.json()["items"]
    assert "seven" in bad_file["last_error"] or bad_file["last_error"]
    place.put({"bad.csv": csv_of(range(10, 12))})
    reprocessed = client.post(
        f"/api/v1/ingestions/{ingestion_id}/files/reprocess", json={"file_ids": [bad_file["id"]]}
    )
    assert reprocessed.json() == {"files": 1, "dry_run": False}
    run = run_now(client, ingestion_id, worker)
    assert (run["files_loaded"], run["rows"], run["files_failed"]) == (1, 2, 0), run
    assert table_ids(spark, table) == list(range(1, 12))

    # Full refresh: a dry run counts, an unconfirmed one is refused, a confirmed one reloads.
    url = f"/api/v1/ingestions/{ingestion_id}/refresh/full"
    plan = client.post(url, json={"dry_run": True}).json()
    assert (plan["files"], plan["rows"], plan["run_id"]) == (4, 11, None)
    assert client.post(url, json={}).status_code == 422
    refresh = client.post(url, json={"confirm": True})
    assert refresh.status_code == 200, refresh.text
    run = finished_run(client, refresh.json()["run_id"], worker)
    assert (run["files_loaded"], run["rows"]) == (4, 11), run
    assert table_ids(spark, table) == list(range(1, 12))  # every row once, none twice

    # Delete: gone from the API and from Prefect; the table stays.
    assert client.delete(f"/api/v1/ingestions/{ingestion_id}").status_code == 204
    deployment_id = uuid.UUID(ingestion["deployment_id"])
    assert prefect_call(lambda prefect: Deployments(prefect).read(deployment_id)) is None
    assert client.get(f"/api/v1/ingestions/{ingestion_id}").status_code == 404
    assert client.post(f"/api/v1/ingestions/{ingestion_id}/run").status_code == 404
    assert table_ids(spark, table) == list(range(1, 12))


def test_no_half_made_ingestion_when_prefect_is_down(
    environment: dict[str, str], tmp_path: Path, place: Place
) -> None:
    """With Prefect unreachable, a create answers 503 and stores nothing."""
    env = {**environment, "PREFECT_API_URL": "http://127.0.0.1:9/api"}
    down = ApiProcess(env, tmp_path / "api.log", ready_path="/health")
    with down.client() as anonymous:
        readiness = anonymous.get("/ready")
    assert readiness.status_code == 503 and readiness.json()["prefect"].startswith("unavailable")
    _, key = down.tenant(scopes=("write",))
    client = down.client(key)
    body = ingestion_body(place, "never")
    answer = client.post("/api/v1/ingestions", json=body)
    assert answer.status_code == 503, answer.text
    assert "nothing was changed" in answer.json()["detail"]
    assert client.get("/api/v1/ingestions").json()["pagination"]["total"] == 0
    down.stop()


def test_a_row_changed_by_another_writer_is_answered_as_it_now_stands(
    api: ApiProcess, environment: dict[str, str], place: Place
) -> None:
    """Pages serve each row's stored document, rendered by the store on every write; a change
    made by plain SQL (as a tool or an operator would) clears it (a trigger), and the page then
    renders the row as it reads it. A single read renders it afresh."""
    _, key = api.tenant(scopes=("write",))
    client = api.client(key)
    created = client.post(
        "/api/v1/ingestions", json=ingestion_body(place, "elsewhere", name="elsewhere")
    )
    assert created.status_code == 201, created.text
    ingestion_id = created.json()["id"]

    engine = make_engine(environment["AUTOLOADER_DATABASE_URL"], pool_size=1)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE ingestions SET status = 'paused', schedule_cron = '7 3 * * *',"
                " updated_by = 'operator' WHERE id = :id"
            ),
            {"id": ingestion_id},
        )
    engine.dispose()

    [listed] = client.get("/api/v1/ingestions", params={"name": "elsewhere"}).json()["items"]
    one = client.get(f"/api/v1/ingestions/{ingestion_id}").json()
    assert (listed["status"], listed["schedule"]["cron"], listed["updated_by"]) == (
        "paused",
        "7 3 * * *",
        "operator",
    )
    assert listed["file_counts"] is None and one["file_counts"] == {}
    assert {**listed, "file_counts": {}} == one


def test_reads_carry_on_when_postgres_drops_the_api_connections(
    api: ApiProcess, environment: dict[str, str]
) -> None:
    """A restarted or failed-over PostgreSQL leaves dead connections in the API's pools; the
    next reads answer all the same."""
    _, key = api.tenant(scopes=("read",))
    client = api.client(key)
    assert client.get("/api/v1/ingestions").status_code == 200

    engine = make_engine(environment["AUTOLOADER_DATABASE_URL"], pool_size=1)
    with engine.connect() as connection:
        dropped = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    engine.dispose()
    assert dropped >= 1

    for _ in range(5):
        answer = client.get("/api/v1/ingestions")
        if answer.status_code != 200:
            api.stop()
            raise AssertionError(api.tail())
    assert api.client().get("/ready").status_code == 200
