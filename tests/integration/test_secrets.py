"""A run that fails on an Azure source reached with a SAS token (Azurite refuses its signature)
keeps the token nowhere: not in Prefect's state messages or logs, the ledger, the worker's log,
or any API answer. A run that reads through Spark with a credential of its own keeps that
credential's secret out of the run's logs, the worker's and Spark server's logs and the Spark UI.

The SDK versions locked here do not put the request URL (with `sig=`) into their errors, so
this guards the path end to end; the forms that do carry it (the requests transport's "Max
retries exceeded with url: /c?…&sig=…") are in the scrubber's unit test."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_process import ApiProcess, api_environment, run_now
from autoloader_metadata.db import make_engine
from identities import ScopedIdentity, scoped_identity
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect_workers import WorkerProcess
from sqlalchemy import text
from support import StackFactory, prefect_call

SIGNATURE = "SECRETsig0123456789abcdefXYZ"
SAS = f"sv=2021-08-06&ss=b&srt=sco&sp=rl&se=2030-01-01T00:00:00Z&sig={SIGNATURE}"
SOURCE = "abfss://landing@devstoreaccount1.dfs.core.windows.net/data"


@pytest.fixture(scope="module")
def stack(services: StackFactory, prefect_settings: dict[str, str]) -> dict[str, str]:
    return services("prefect", "azurite", "spark", "spark-cluster")


@pytest.fixture(scope="module")
def identity(stack: dict[str, str]) -> ScopedIdentity:
    return scoped_identity(stack, "secrets", {"in/orders.csv": b"id,name\n1,a\n2,b\n3,c\n"})


@pytest.fixture(scope="module")
def environment(stack: dict[str, str], identity: ScopedIdentity) -> dict[str, str]:
    credential = {
        "IT_SAS_ACCOUNT_NAME": stack["AUTOLOADER_AZURE_ACCOUNT_NAME"],
        "IT_SAS_SAS_TOKEN": SAS,  # a signature Azurite refuses
        "IT_SAS_ENDPOINT_URL": stack["AUTOLOADER_AZURE_BLOB_ENDPOINT"],
        **identity.environ("IT_ID"),  # a MinIO identity that reads one bucket
        "AUTOLOADER_SPARK_CLUSTERS": stack["AUTOLOADER_SPARK_CLUSTERS"],  # `standalone`
    }
    return api_environment(stack, "it_secrets", **credential, AUTOLOADER_TASK_RETRIES="0")


def test_a_run_failing_on_a_sas_source_keeps_the_signature_nowhere(
    api: ApiProcess, worker: WorkerProcess, environment: dict[str, str]
) -> None:
    _, key = api.tenant(scopes=("write",))
    body = {
        "name": f"sas-{uuid.uuid4().hex[:6]}",
        "source": {"uri": SOURCE, "credential_ref": "env:IT_SAS"},
        "format": {"type": "csv"},
        "destination": {"catalog": "lake", "namespace": "it_secrets", "table": "t"},
    }
    with api.client(key) as client:
        created = client.post("/api/v1/ingestions", json=body)
        assert created.status_code == 201, created.text
        ingestion_id = created.json()["id"]
        run = run_now(client, ingestion_id, worker)
        assert run["state"] == "FAILED", run
        assert "access denied" in run["message"], run  # the store's answer, in words
        answers: list[Any] = [
            run,
            client.get(f"/api/v1/runs/{run['id']}/logs", params={"limit": 200}).json(),
            client.get(f"/api/v1/ingestions/{ingestion_id}/runs").json(),
            client.get(f"/api/v1/ingestions/{ingestion_id}/files").json(),
            client.get(f"/api/v1/ingestions/{ingestion_id}").json(),
        ]

    async def from_prefect(prefect: Any) -> list[str]:
        flow_run = await prefect.read_flow_run(uuid.UUID(run["id"]))
        task_runs = await prefect.read_task_runs()
        logs = await prefect.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run.id]))
        )
        return [
            flow_run.state.message or "",
            *[t.state.message or "" for t in task_runs if t.flow_run_id == flow_run.id],
            *[line.message for line in logs],
        ]

    stored = prefect_call(from_prefect)
    engine = make_engine(environment["AUTOLOADER_DATABASE_URL"])
    with engine.connect() as connection:
        ledger = connection.execute(
            text("SELECT coalesce(string_agg(last_error, ' '), '') FROM files")
        ).scalar_one()
    engine.dispose()
    everything = "\n".join([json.dumps(answers), *stored, ledger, worker.tail(200_000)])
    assert any("AuthenticationFailed" in m or "access denied" in m for m in stored), stored
    assert SIGNATURE not in everything
    assert "sig=" not in everything.replace("sig=***", "")


# Every execution the UI keeps (spark.sql.ui.retainedExecutions, 1000 by default) with its plan;
# the REST API's own default is the first 20.
SQL_EXECUTIONS = "sql?details=true&planDescription=true&length=1000"


def spark_ui_pages(ui: str) -> dict[str, str]:
    """What the Spark UI shows of the application: its environment and SQL executions (REST)
    and its Spark Connect tab, where each statement's plan is printed."""
    pages: dict[str, str] = {}
    with httpx.Client(base_url=ui, timeout=30, follow_redirects=True) as client:
        (application,) = client.get("/api/v1/applications").json()
        base = f"/api/v1/applications/{application['id']}"
        for name in ("environment", SQL_EXECUTIONS, "jobs", "stages"):
            answer = client.get(f"{base}/{name}")
            assert answer.status_code == 200, (name, answer.text[:300])
            pages[name] = answer.text
        connect = client.get("/connect/")
        assert connect.status_code == 200, connect.text[:300]
        pages["connect"] = connect.text
        for session in sorted(set(re.findall(r"/connect/session/\?id=[0-9a-f-]+", connect.text))):
            pages[session] = client.get(session).text
    return pages


def executor_logs(connect_log: Path) -> str:
    """What the standalone cluster's executors wrote (each worker keeps them per application)."""
    files = sorted(connect_log.parent.glob("worker-*/app-*/*/std*"))
    return "\n".join(f.read_text(errors="replace") for f in files)


@pytest.mark.parametrize(
    ("cluster", "ui", "log"),
    [
        ("default", "AUTOLOADER_SPARK_UI_URL", "AUTOLOADER_SPARK_LOG"),
        ("standalone", "AUTOLOADER_SPARK_CLUSTER_UI_URL", "AUTOLOADER_SPARK_CLUSTER_LOG"),
    ],
)
def test_a_run_read_through_spark_keeps_its_credential_out_of_every_log(
    api: ApiProcess,
    worker: WorkerProcess,
    stack: dict[str, str],
    identity: ScopedIdentity,
    cluster: str,
    ui: str,
    log: str,
) -> None:
    _, key = api.tenant(scopes=("write",))
    body = {
        "name": f"scoped-{uuid.uuid4().hex[:6]}",
        "source": {"uri": f"s3://{identity.bucket}/in", "credential_ref": "env:IT_ID"},
        "format": {"type": "csv"},
        "destination": {"catalog": "lake", "namespace": "it_secrets", "table": f"on_{cluster}"},
        "cluster": cluster,
    }
    with api.client(key) as client:
        created = client.post("/api/v1/ingestions", json=body)
        assert created.status_code == 201, created.text
        run = run_now(client, created.json()["id"], worker)
        assert run["state"] == "COMPLETED", run
        assert (run["files_loaded"], run["rows"]) == (1, 3), run
        run_logs = client.get(f"/api/v1/runs/{run['id']}/logs", params={"limit": 500}).text

    async def prefect_logs(prefect: Any) -> list[str]:
        logs = await prefect.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[uuid.UUID(run["id"])]))
        )
        return [line.message for line in logs]

    places = {
        "the run's logs (API)": run_logs,
        "Prefect's logs of the run": "\n".join(prefect_call(prefect_logs)),
        "the worker's log": worker.tail(2_000_000),
        "the Spark server's log": Path(stack[log]).read_text(errors="replace"),
        "the executors' logs": executor_logs(Path(stack[log])),
        **{f"the Spark UI ({page})": text for page, text in spark_ui_pages(stack[ui]).items()},
    }
    assert "orders.csv" in places[f"the Spark UI ({SQL_EXECUTIONS})"]
    assert (cluster == "standalone") == bool(places["the executors' logs"])  # read, where there are
    for secret in (identity.secret_access_key, identity.session_token):
        leaks = [place for place, text in places.items() if secret in text]
        assert not leaks, f"a secret of the credential shows in {leaks}"
