"""The API as a real process for tests: started with the test's interpreter on a free port,
against the stack's PostgreSQL and Prefect, with its first admin key installed by
`migrate bootstrap` as an install would."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
from autoloader_metadata.repositories import new_key
from prefect_workers import WorkerProcess, import_path, wait_for
from support import migrated_database

from autoloader_devstack.ports import free_port


class ApiProcess:
    def __init__(
        self,
        env: Mapping[str, str],
        log: Path,
        ready_path: str = "/ready",
        args: Sequence[str] = (),
        command: Sequence[str] = (sys.executable, "-m", "autoloader_api.main"),
    ) -> None:
        self.port = free_port()
        self.admin_key = new_key()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.env = {
            **os.environ,
            "PYTHONPATH": import_path(),
            **env,
            "AUTOLOADER_ADMIN_API_KEY": self.admin_key,
            "AUTOLOADER_API_PORT": str(self.port),
        }
        bootstrap = subprocess.run(
            [sys.executable, "-m", "autoloader_migrate.main", "bootstrap"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert bootstrap.returncode == 0, bootstrap.stderr
        assert self.admin_key not in bootstrap.stdout + bootstrap.stderr  # never printed
        self._out = log.open("ab")
        self.process = subprocess.Popen(
            [*command, *args],
            env=self.env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready(ready_path)

    def _wait_ready(self, path: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the API exited {self.process.returncode}:\n{self.tail()}")
            try:
                if httpx.get(f"{self.base_url}{path}", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"the API was not ready within {timeout} s:\n{self.tail()}")

    def client(self, key: str | None = None, timeout: float = 120) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def tenant(
        self, scopes: Sequence[str] = ("write",), name: str | None = None
    ) -> tuple[str, str]:
        """A new tenant and a key of it with `scopes`; returns (tenant id, key)."""
        with self.client(self.admin_key) as admin:
            tenant = admin.post(
                "/api/v1/tenants", json={"name": name or f"t-{uuid.uuid4().hex[:8]}"}
            )
            assert tenant.status_code == 201, tenant.text
            tenant_id = tenant.json()["id"]
            return tenant_id, self.key(tenant_id, scopes)

    def key(self, tenant_id: str, scopes: Sequence[str]) -> str:
        with self.client(self.admin_key) as admin:
            key = admin.post(
                "/api/v1/api-keys",
                json={"tenant_id": tenant_id, "name": "-".join(scopes), "scopes": list(scopes)},
            )
            assert key.status_code == 201, key.text
            return str(key.json()["key"])

    def tail(self, chars: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-chars:]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._out.close()


def api_environment(stack: Mapping[str, str], name: str, **extra: str) -> dict[str, str]:
    """Settings of an API (and its workers) with a fresh database and a work pool of its own."""
    return {
        "AUTOLOADER_ENVIRONMENT": "test",
        "AUTOLOADER_DATABASE_URL": migrated_database(stack["AUTOLOADER_DATABASE_URL"], name),
        "AUTOLOADER_WORK_POOL": f"{name.replace('_', '-')}-{uuid.uuid4().hex[:8]}",
        # Tests that need Spark start it; the others never reach this address.
        "AUTOLOADER_SPARK_REMOTE": stack.get("AUTOLOADER_SPARK_REMOTE", "sc://127.0.0.1:9"),
        "PREFECT_API_URL": stack["PREFECT_API_URL"],
        **extra,
    }


def ingestion_body(place: Any, table: str, **overrides: Any) -> dict[str, Any]:
    """A create body for CSV files (id, name, amount) in `place`."""
    body: dict[str, Any] = {
        "name": f"orders-{uuid.uuid4().hex[:6]}",
        "source": {"uri": place.uri, "credential_ref": place.credential_ref, "glob": "*.csv"},
        "format": {
            "type": "csv",
            "schema_ddl": "id BIGINT, name STRING, amount DOUBLE",
            "corrupt_records": "fail",
        },
        "destination": {"catalog": "lake", "namespace": "it_api", "table": table},
    }
    body.update(overrides)
    return body


def finished_run(client: httpx.Client, run_id: str, worker: WorkerProcess) -> dict[str, Any]:
    def done() -> dict[str, Any]:
        """The run once it ended; empty (false) before."""
        run = client.get(f"/api/v1/runs/{run_id}")
        assert run.status_code == 200, run.text
        body: dict[str, Any] = run.json()
        ended = body["end_time"] and body["state"] in ("COMPLETED", "FAILED", "CRASHED")
        return body if ended else {}

    return wait_for(done, 180, f"run {run_id} to finish", every=1, context=worker.tail)


def run_now(
    client: httpx.Client, ingestion_id: str, worker: WorkerProcess, key: str | None = None
) -> dict[str, Any]:
    headers = {"Idempotency-Key": key} if key else {}
    started = client.post(f"/api/v1/ingestions/{ingestion_id}/run", headers=headers)
    assert started.status_code == 202, started.text
    return finished_run(client, started.json()["run_id"], worker)
