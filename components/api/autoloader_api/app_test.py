import asyncio
from pathlib import Path

import httpx
from fastapi.responses import FileResponse

from autoloader_api import console
from autoloader_api.app import create_app
from autoloader_api.openapi_document import render
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


def test_the_committed_openapi_document_is_current() -> None:
    """components/api/autoloader_api/openapi.json is what the console's types are generated from."""
    committed = Path("components/api/autoloader_api/openapi.json").read_text()
    assert committed == render(), "the API changed: run ./dev openapi and commit the result"


def test_the_root_leads_to_the_console() -> None:
    response = get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/ui/"


def built_console(root: Path) -> Path:
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><div id=root></div>")
    (root / "assets" / "index-abc.js").write_text("console.log(1)")
    return root


def test_console_pages_are_its_index_and_assets_are_files(tmp_path: Path) -> None:
    root = built_console(tmp_path / "console")

    page = console.page("ingestions/123", root)
    asset = console.page("assets/index-abc.js", root)

    assert isinstance(page, FileResponse) and page.path == root / "index.html"
    assert page.headers["cache-control"] == "no-cache"
    assert isinstance(asset, FileResponse) and Path(asset.path) == root / "assets" / "index-abc.js"
    assert asset.media_type == "text/javascript"
    assert "immutable" in asset.headers["cache-control"]
    for response in (page, asset):
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "default-src 'none'" in policy
        assert "unsafe-inline" not in policy


def test_the_console_never_serves_a_file_outside_its_folder(tmp_path: Path) -> None:
    root = built_console(tmp_path / "console")
    (tmp_path / "secret.txt").write_text("no")

    response = console.page("../secret.txt", root)

    assert isinstance(response, FileResponse) and response.path == root / "index.html"


def test_an_api_without_the_console_built_says_how_to_build_it(tmp_path: Path) -> None:
    response = console.page("", tmp_path)

    assert response.status_code == 404
    assert b"./dev ui" in response.body


def test_a_missing_asset_is_404_not_the_app(tmp_path: Path) -> None:
    """A tab built before a deploy asks for old hashed files: they are gone, not HTML."""
    root = built_console(tmp_path / "console")

    response = console.page("assets/index-old.js", root)

    assert response.status_code == 404
    assert not isinstance(response, FileResponse)


def test_a_path_too_long_for_the_file_system_is_the_app(tmp_path: Path) -> None:
    root = built_console(tmp_path / "console")

    response = console.page("a" * 3000, root)

    assert isinstance(response, FileResponse) and response.path == root / "index.html"
