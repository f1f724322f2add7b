import asyncio

import httpx

from autoloader_api.app import create_app
from autoloader_core import __version__


def get(path: str) -> httpx.Response:
    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            return await client.get(path)

    return asyncio.run(call())


def test_health_reports_ok_and_version() -> None:
    response = get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": __version__}


def test_unknown_paths_are_404() -> None:
    assert get("/nope").status_code == 404


def test_every_operation_has_a_short_unique_id_and_a_tag() -> None:
    schema = create_app().openapi()
    operations = [operation for path in schema["paths"].values() for operation in path.values()]
    ids = [operation["operationId"] for operation in operations]
    assert len(ids) == len(set(ids))
    assert all(operation.get("tags") for operation in operations)
    assert all(len(i) <= 40 and "api_v1" not in i for i in ids), ids
    assert {"ingestions_create", "ingestions_list", "ingestions_validate", "runs_get"} <= set(ids)
