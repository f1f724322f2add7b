"""The `autoloader` CLI as a user runs it: the built PEX as a subprocess, against the API, a
Prefect worker and the stack. Specs as files (apply, diff, prune, export), runs, and the key's
file."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from api_process import ApiProcess, api_environment
from prefect_workers import WorkerProcess
from stores import Place
from support import StackFactory, csv_of

CLI = Path("components.cli/autoloader.pex")  # where Pants puts the package beside the tests


@pytest.fixture(scope="module")
def stack(services: StackFactory, prefect_settings: dict[str, str]) -> dict[str, str]:
    return services("prefect", "spark")


@pytest.fixture(scope="module")
def environment(stack: dict[str, str], place: Place) -> dict[str, str]:
    return api_environment(stack, "it_cli", **place.environ, AUTOLOADER_TASK_RETRIES="0")


@dataclass
class Cli:
    """The PEX with a home of its own (config file) and no server settings of the test's."""

    home: Path

    def __call__(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AUTOLOADER_", "__PEX", "PEX_")) and key != "PYTHONPATH"
        }
        env.update(HOME=str(self.home), COLUMNS="200", AUTOLOADER_CONFIG=str(self.config))
        return subprocess.run(
            [str(CLI.resolve()), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
        )

    @property
    def config(self) -> Path:
        return self.home / ".config" / "autoloader" / "config.toml"


@pytest.fixture(scope="module")
def tenant(api: ApiProcess) -> tuple[str, str]:
    return api.tenant(scopes=("write",))


@pytest.fixture(scope="module")
def cli(api: ApiProcess, tenant: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Cli:
    """Logged in with the tenant's key, as `autoloader login` stores it."""
    runner = Cli(tmp_path_factory.mktemp("home"))
    _, key = tenant
    logged_in = runner("login", "--url", api.base_url, "--api-key-stdin", stdin=key + "\n")
    assert logged_in.returncode == 0, logged_in.stderr
    assert key not in logged_in.stdout + logged_in.stderr
    assert stat.S_IMODE(runner.config.stat().st_mode) == 0o600
    assert key in runner.config.read_text()
    return runner


def spec(name: str, place: Place, table: str, **changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "apiVersion": "autoloader/v1",
        "kind": "Ingestion",
        "metadata": {"name": name, "labels": {"team": "sales"}},
        "spec": {
            "source": {"uri": place.uri, "credential_ref": place.credential_ref, "glob": "*.csv"},
            "format": {
                "type": "csv",
                "options": {"header": True},  # stored as "true": no difference either
                "schema_ddl": "id BIGINT, name STRING, amount DOUBLE",
                "corrupt_records": "fail",
            },
            "destination": {"catalog": "lake", "namespace": "it_cli", "table": table},
            "schedule": {"cron": "*/15 * * * *", "timezone": "UTC"},
        },
    }
    document["spec"].update(changes)
    return document


def write(path: Path, *documents: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))


def names(api: ApiProcess, key: str) -> set[str]:
    with api.client(key) as client:
        return {item["name"] for item in client.get("/api/v1/ingestions").json()["items"]}


def test_specs_as_files_apply_diff_export_and_prune(
    cli: Cli, api: ApiProcess, tenant: tuple[str, str], place: Place, tmp_path: Path
) -> None:
    _, key = tenant
    suffix = uuid.uuid4().hex[:6]
    orders, events, metrics = (f"{n}-{suffix}" for n in ("orders", "events", "metrics"))
    specs = tmp_path / "specs"
    write(specs / "orders.yaml", spec(orders, place, f"orders_{suffix}"))
    write(
        specs / "more" / "analytics.yaml",
        spec(events, place, f"events_{suffix}", schedule={"cron": None}),
        spec(metrics, place, f"metrics_{suffix}", batch={"max_files": 50}),
    )

    whoami = cli("whoami", "-o", "json")
    assert whoami.returncode == 0, whoami.stderr
    assert json.loads(whoami.stdout)["scopes"] == ["write"]

    first = cli("apply", "-f", str(specs))
    assert first.returncode == 0, first.stderr
    assert {f"+ create {n}" for n in (orders, events, metrics)} <= set(first.stdout.splitlines())
    assert "plan: 3 to create, 0 to change, 0 to delete" in first.stdout
    assert {orders, events, metrics} <= names(api, key)

    again = cli("apply", "-f", str(specs))
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stdout

    # One field changed in a file: diff shows exactly it (exit 1), apply changes only it.
    write(
        specs / "orders.yaml",
        spec(orders, place, f"orders_{suffix}", schedule={"cron": "0 * * * *", "timezone": "UTC"}),
    )
    planned = cli("diff", "-f", str(specs))
    assert planned.returncode == 1, planned.stderr
    field_lines = [line.strip() for line in planned.stdout.splitlines() if "    ~ " in line]
    assert field_lines == ["~ schedule.cron: */15 * * * * → 0 * * * *"], planned.stdout
    applied = cli("apply", "-f", str(specs))
    assert applied.returncode == 0, applied.stderr
    assert f"changed {orders}: schedule.cron" in applied.stdout
    assert cli("diff", "-f", str(specs)).returncode == 0

    # Exported specs apply back unchanged; -o json is the API's own answer.
    exported = cli("get", "ingestion", orders, "-o", "yaml")
    assert exported.returncode == 0, exported.stderr
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "orders.yaml").write_text(exported.stdout)
    round_trip = cli("apply", "-f", str(tmp_path / "export"))
    assert round_trip.returncode == 0 and "nothing to do" in round_trip.stdout, round_trip.stdout
    shown = cli("ingestions", "get", orders, "-o", "json")
    assert shown.returncode == 0, shown.stderr
    with api.client(key) as client:
        answer = client.get(f"/api/v1/ingestions/{json.loads(shown.stdout)['id']}").json()
    assert json.loads(shown.stdout) == answer

    # --prune: the set's label goes on everything it manages; a file removed, its
    # ingestions deleted, and nothing else.
    labelled = cli("apply", "-f", str(specs), "--prune")
    assert labelled.returncode == 0, labelled.stderr
    assert "plan: 0 to create, 3 to change, 0 to delete" in labelled.stdout
    (specs / "more" / "analytics.yaml").unlink()
    write(
        specs / "more" / "events.yaml",
        spec(events, place, f"events_{suffix}", schedule={"cron": None}),
    )
    pruned = cli("apply", "-f", str(specs), "--prune")
    assert pruned.returncode == 0, pruned.stderr
    assert f"- delete {metrics}" in pruned.stdout
    assert "plan: 0 to create, 0 to change, 1 to delete" in pruned.stdout
    assert names(api, key) >= {orders, events} and metrics not in names(api, key)


def test_an_invalid_document_changes_nothing_and_is_shown_at_its_line(
    cli: Cli, api: ApiProcess, tenant: tuple[str, str], place: Place, tmp_path: Path
) -> None:
    _, key = tenant
    good, bad = f"good-{uuid.uuid4().hex[:6]}", f"bad-{uuid.uuid4().hex[:6]}"
    write(
        tmp_path / "set.yaml",
        spec(good, place, f"good_{good[-6:]}"),
        spec(bad, place, f"bad_{bad[-6:]}", schedule={"cron": "61 * * * *", "timezone": "UTC"}),
    )
    refused = cli("apply", "-f", str(tmp_path))
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"{tmp_path / 'set.yaml'} (document 2, line " in refused.stderr
    assert "schedule.cron" in refused.stderr and "nothing was changed" in refused.stderr
    line = int(refused.stderr.split("(document 2, line ", 1)[1].split(")", 1)[0])
    assert "61 * * * *" in (tmp_path / "set.yaml").read_text().splitlines()[line - 1]
    assert good not in names(api, key)


def test_run_wait_names_the_bad_file_and_verbose_never_logs_the_key(
    cli: Cli, worker: WorkerProcess, tenant: tuple[str, str], place: Place, tmp_path: Path
) -> None:
    _, key = tenant
    name = f"runs-{uuid.uuid4().hex[:6]}"
    place.put({"good.csv": csv_of(range(1, 4)), "bad.csv": b"id,name,amount\nseven,x,y\n"})
    write(tmp_path / "runs.yaml", spec(name, place, f"runs_{name[-6:]}", schedule={"cron": None}))
    assert cli("apply", "-f", str(tmp_path)).returncode == 0

    ran = cli("run", name, "--wait")
    assert ran.returncode == 1, ran.stdout + ran.stderr + worker.tail()
    assert "bad.csv" in ran.stdout and "Completed with failures" in ran.stdout

    failed = cli("files", "list", name, "--status", "failed", "-o", "json")
    assert [f["path"].rsplit("/", 1)[1] for f in json.loads(failed.stdout)] == ["bad.csv"]

    verbose = cli("-v", "ingestions", "list")
    assert verbose.returncode == 0, verbose.stderr
    [row] = [line for line in verbose.stdout.splitlines() if line.strip().startswith(name)]
    assert "Completed with failures" in row and "manual" in row, verbose.stdout
    assert "GET" in verbose.stderr and "/api/v1/ingestions" in verbose.stderr
    assert key not in verbose.stderr + verbose.stdout and "Bearer" not in verbose.stderr


def test_the_examples_are_valid_specs_the_api_would_create(cli: Cli) -> None:
    planned = cli("diff", "-f", "examples")
    assert planned.returncode == 1, planned.stdout + planned.stderr
    assert {"+ create orders", "+ create events", "+ create metrics"} <= set(
        planned.stdout.splitlines()
    )


def test_everyday_commands_read_what_the_api_answers(
    cli: Cli, api: ApiProcess, worker: WorkerProcess, place: Place, tmp_path: Path
) -> None:
    name = f"daily-{uuid.uuid4().hex[:6]}"
    place.put({"daily.csv": csv_of(range(1, 3))})
    document = spec(name, place, f"daily_{name[-6:]}", schedule={"cron": None})
    document["spec"]["source"]["glob"] = "daily.csv"
    write(tmp_path / "daily.yaml", document)
    assert cli("apply", "-f", str(tmp_path)).returncode == 0

    previewed = cli("preview", "-f", str(tmp_path / "daily.yaml"))
    assert previewed.returncode == 0, previewed.stderr
    assert "1 files match" in previewed.stdout and "name-1" in previewed.stdout

    ran = cli("run", name, "--wait", "--follow")
    assert ran.returncode == 0, ran.stdout + ran.stderr + worker.tail()
    assert "listed 1 files" in ran.stdout  # the followed logs
    runs = json.loads(cli("runs", "list", name, "-o", "json").stdout)
    [finished] = [r for r in runs if r["state"] == "COMPLETED"]
    assert (finished["files_loaded"], finished["rows"]) == (1, 2)
    shown = cli("runs", "get", finished["id"])
    assert shown.returncode == 0 and finished["id"] in shown.stdout
    logs = cli("runs", "logs", finished["id"])
    assert logs.returncode == 0 and "1 files loaded" in logs.stdout, logs.stdout

    planned = json.loads(cli("refresh", "full", name, "--dry-run", "-o", "json").stdout)
    assert (planned["files"], planned["rows"], planned["dry_run"]) == (1, 2, True)
    assert cli("refresh", "full", name).returncode == 2  # neither --dry-run nor --yes
    reprocess = cli("files", "reprocess", name, "--status", "loaded", "--dry-run")
    assert f"{name}: would reprocess 1 files" in reprocess.stdout, reprocess.stdout

    assert cli("ingestions", "pause", name).stdout.strip() == f"{name}: paused"
    refused = cli("run", name)
    assert refused.returncode == 1 and "paused" in refused.stderr
    assert cli("ingestions", "resume", name).stdout.strip() == f"{name}: active"
    assert cli("ingestions", "delete", name, "--yes").returncode == 0
    missing = cli("ingestions", "get", name)
    assert missing.returncode == 1 and f"no ingestion named {name!r}" in missing.stderr

    admin = Cli(tmp_path / "admin-home")
    login = admin("login", "--url", api.base_url, "--api-key-stdin", stdin=api.admin_key)
    assert login.returncode == 0, login.stderr
    tenants = json.loads(admin("admin", "tenants", "-o", "json").stdout)
    assert any(t["name"] == "default" for t in tenants)
    forbidden = cli("admin", "tenants")
    assert forbidden.returncode == 1 and "403" in forbidden.stderr
