"""Every metric the chart's dashboard and alert rules name is emitted: an API and a worker run
on the real stack, an ingestion runs (one good file, one bad), and both /metrics are scraped.
The installation requires credential grants, as the chart's does: a run whose grant was
revoked stops before it reads."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from api_process import ApiProcess, api_environment, ingestion_body, run_now
from prefect_workers import WorkerProcess, wait_for
from stores import Place
from support import StackFactory

from autoloader_devstack.ports import free_port

CHART = Path("charts/autoloader")
PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or",
    "unless", "offset", "le", "inf", "nan",
}  # fmt: skip


def referenced_metrics() -> set[str]:
    """Metric names in the alert rules' and the dashboard's PromQL."""
    rules = yaml.safe_load(
        re.sub(r"\{\{[^}]*\}\}", "0", (CHART / "files/alert-rules.yaml").read_text())
    )
    dashboard = json.loads((CHART / "files/dashboard.json").read_text())
    expressions = [rule["expr"] for rule in rules]
    expressions += [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    expressions += [
        v["query"]["query"]
        for v in dashboard["templating"]["list"]
        if "query" in v and isinstance(v["query"], dict)
    ]
    names: set[str] = set()
    for expression in expressions:
        bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\"[^\"]*\"|\$\w+", " ", expression)  # matchers, ranges
        bare = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", " ", bare)  # grouping labels
        bare = re.sub(r"label_values\(\s*(\w+)\s*,\s*\w+\s*\)", r" \1 ", bare)
        for match in re.finditer(r"(?<![\w.:])([a-zA-Z_:][\w:]*)(?![\w:])(?!\s*\()", bare):
            word = match.group(1)
            if word.lower() not in PROMQL_WORDS and not re.fullmatch(r"\d.*", word):
                names.add(word)
    return names


def family(name: str) -> str:
    return re.sub(r"_(bucket|sum|count)$", "", name)


def families(exposition: str) -> set[str]:
    return set(re.findall(r"^# TYPE (\S+) ", exposition, re.M)) | {
        f"{name}_total" for name in re.findall(r"^# TYPE (\S+) counter", exposition, re.M)
    }


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        return str(response.read().decode())


def value(exposition: str, name: str, **labels: str) -> float | None:
    for line in exposition.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


@pytest.fixture(scope="module")
def stack(services: StackFactory, prefect_settings: dict[str, str]) -> dict[str, str]:
    return services("prefect", "spark")


@pytest.fixture(scope="module")
def environment(stack: dict[str, str], place: Place) -> dict[str, str]:
    return api_environment(
        stack,
        "it_obs",
        **place.environ,
        AUTOLOADER_TASK_RETRIES="0",
        AUTOLOADER_REQUIRE_CREDENTIAL_GRANTS="true",
    )


@pytest.fixture(scope="module")
def metrics_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def worker(
    environment: dict[str, str],
    api: ApiProcess,
    metrics_port: int,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[WorkerProcess]:
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    process = WorkerProcess(environment, log, "--metrics-port", str(metrics_port))
    yield process
    process.stop()


def test_the_rules_and_dashboard_name_metrics_at_all() -> None:
    names = referenced_metrics()
    assert {"flow_runs_total", "work_queue_depth", "ingestion_backlog_files"} <= names, names
    assert not names & {"sum", "rate", "max", "time", "by", "le", "su", "tim"}, names
    assert all(re.fullmatch(r"[a-z_]+", name) for name in names), names


def test_every_metric_the_dashboard_and_alerts_use_is_emitted(
    api: ApiProcess, worker: WorkerProcess, place: Place, metrics_port: int
) -> None:
    tenant_id, key = api.tenant(scopes=("write",))
    client = api.client(key)
    grants = f"/api/v1/tenants/{tenant_id}/credential-grants"
    granted = api.client(api.admin_key).post(grants, json={"credential_ref": place.credential_ref})
    assert granted.status_code == 201, granted.text
    place.put(
        {
            "good.csv": b"id,name,amount\n1,a,1.5\n2,b,2.5\n3,c,3.5\n",
            "bad.csv": b"id,name,amount\nseven,x,y\n",
        }
    )
    body = ingestion_body(place, f"t_{int(time.time())}", schedule={"cron": "0 * * * *"})
    created = client.post("/api/v1/ingestions", json=body)
    assert created.status_code == 201, created.text
    ingestion_id = created.json()["id"]
    run = run_now(client, ingestion_id, worker)
    assert (run["files_loaded"], run["files_failed"]) == (1, 1), run

    worker_url = f"http://127.0.0.1:{metrics_port}/metrics"
    labels = {"ingestion_id": ingestion_id}

    def counted() -> str:
        """The worker's metrics once it counted the run (after the run's end) and read the
        ingestion's state since (cached up to 15 s); empty before."""
        text = scrape(worker_url)
        done = value(text, "files_ingested_total", **labels)
        read = value(text, "ingestion_last_success_timestamp_seconds", **labels)
        return text if done and read else ""

    worker_metrics = wait_for(counted, 60, "the worker to count the run", context=worker.tail)
    api_metrics = scrape(f"{api.base_url}/metrics")

    emitted = families(worker_metrics) | families(api_metrics)
    missing = sorted(
        n for n in referenced_metrics() if family(n) not in emitted and n not in emitted
    )
    assert not missing, f"referenced by the chart, emitted by nobody: {missing}"

    # And the values are this run's.
    assert value(worker_metrics, "files_ingested_total", **labels) == 1
    assert value(worker_metrics, "rows_ingested_total", **labels) == 3
    assert (value(worker_metrics, "bytes_ingested_total", **labels) or 0) > 0
    failed = [
        line for line in worker_metrics.splitlines()
        if line.startswith("files_failed_total{") and ingestion_id in line
    ]  # fmt: skip
    assert len(failed) == 1 and failed[0].endswith(" 1.0"), failed
    assert 'reason="unknown"' not in failed[0], failed  # the Spark condition names it
    assert value(worker_metrics, "discovery_duration_seconds_count", **labels) == 1
    assert value(worker_metrics, "ingestion_backlog_files", **labels) == 0
    assert value(worker_metrics, "ingestion_expected_interval_seconds", **labels) == 3600
    last_success = value(worker_metrics, "ingestion_last_success_timestamp_seconds", **labels)
    assert last_success and abs(time.time() - last_success) < 300, last_success
    assert re.search(r"^prefect_api_up 1\.0$", worker_metrics, re.M), worker_metrics
    assert re.search(
        r'^flow_runs_total\{status="completed_with_failures"\} 1\.0$', worker_metrics, re.M
    )
    assert 'api_requests_total{method="POST"' in api_metrics


def test_a_run_stops_when_its_credential_grant_is_revoked(
    api: ApiProcess, worker: WorkerProcess, place: Place
) -> None:
    tenant_id, key = api.tenant(scopes=("write",))
    client, admin = api.client(key), api.client(api.admin_key)
    grants = f"/api/v1/tenants/{tenant_id}/credential-grants"
    assert admin.post(grants, json={"credential_ref": place.credential_ref}).status_code == 201
    created = client.post("/api/v1/ingestions", json=ingestion_body(place, "revoked"))
    assert created.status_code == 201, created.text
    revoked = admin.delete(grants, params={"credential_ref": place.credential_ref})
    assert revoked.status_code == 204, revoked.text

    run = run_now(client, created.json()["id"], worker)
    assert run["state"] == "FAILED", run
    assert "not granted" in str(run["message"]), run
    assert run["files_loaded"] == 0
