"""A Python client generated from the live OpenAPI (openapi-python-client, as users generate
one) reads well and works: short function names, typed models, one create and one list."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import openapi_python_client  # noqa: F401  (run as a program below; imported for the build)
import pytest
from api_process import ApiProcess, api_environment, ingestion_body
from stores import Place
from support import StackFactory


@pytest.fixture(scope="module")
def stack(services: StackFactory, prefect_settings: dict[str, str]) -> dict[str, str]:
    return services("prefect")


@pytest.fixture(scope="module")
def environment(stack: dict[str, str], place: Place) -> dict[str, str]:
    return api_environment(stack, "it_client", **place.environ)


def test_a_generated_client_creates_and_lists_ingestions(
    api: ApiProcess, place: Place, tmp_path: Path
) -> None:
    schema = httpx.get(f"{api.base_url}/openapi.json").json()
    (tmp_path / "openapi.json").write_text(json.dumps(schema))
    (tmp_path / "config.json").write_text(
        json.dumps({"package_name_override": "autoloader_client", "post_hooks": []})
    )
    generated = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(tmp_path / "openapi.json"),
            "--config",
            str(tmp_path / "config.json"),
            "--meta",
            "none",
            "--output-path",
            str(tmp_path / "autoloader_client"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "Error" not in generated.stdout, generated.stdout
    modules = {p.stem for p in (tmp_path / "autoloader_client" / "api").rglob("*.py")}
    assert {
        "ingestions_create",
        "ingestions_list",
        "runs_get_logs",
        "files_list",
    } <= modules, modules
    assert not any("api_v1" in name for name in modules), sorted(modules)

    sys.path.insert(0, str(tmp_path))
    try:
        package = importlib.import_module("autoloader_client")
        create = importlib.import_module("autoloader_client.api.ingestions.ingestions_create")
        listing = importlib.import_module("autoloader_client.api.ingestions.ingestions_list")
        models = importlib.import_module("autoloader_client.models")
        _, key = api.tenant(scopes=("write",))
        client = package.AuthenticatedClient(base_url=api.base_url, token=key)
        body = models.IngestionSpec.from_dict(
            ingestion_body(place, f"t_{uuid.uuid4().hex[:10]}", labels={"team": "sales"})
        )
        created = create.sync(client=client, body=body)
        assert isinstance(created, models.IngestionOut), created
        assert created.labels.additional_properties == {"team": "sales"}
        page = listing.sync(client=client)
        assert [item.id for item in page.items] == [created.id]
        assert page.items[0].source.uri == place.uri
    finally:
        sys.path.remove(str(tmp_path))
