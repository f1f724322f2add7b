"""The web console in a real browser (Debian's Chromium, driven by Playwright) against the real
stack: PostgreSQL, Prefect and a worker, the S3 store, Spark Connect with Iceberg. A data
engineer signs in, creates an ingestion through the wizard with its live preview, runs it, finds
a broken file, fixes and reprocesses it, pauses and resumes; a read-only key and a wrong key
meet the walls they should. Screenshots of each page land in dist/test/console/."""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_process import ApiProcess, api_environment
from console_browser import Browsing, artifacts, browsing
from playwright.sync_api import Page, expect
from prefect_workers import WorkerProcess
from pyspark.sql import SparkSession
from stores import Place
from support import StackFactory, csv_of

RUN_TIMEOUT_MS = 240_000  # a run on a cold Spark server (the first creates the table)
PREVIEW_TIMEOUT_MS = 180_000
SCHEDULER_TIMEOUT_MS = 150_000
NAMESPACE = "it_console"
CONSOLE_URL = "http://console.example/ui"


@pytest.fixture(scope="module")
def stack(services: StackFactory, prefect_settings: dict[str, str]) -> dict[str, str]:
    return services("prefect", "spark")


@pytest.fixture(scope="module")
def environment(stack: dict[str, str], place: Place) -> dict[str, str]:
    return api_environment(
        stack,
        "it_console",
        **place.environ,
        AUTOLOADER_TASK_RETRIES="0",
        AUTOLOADER_PREFECT_UI_URL=stack.get("AUTOLOADER_PREFECT_UI_URL", "http://prefect.invalid"),
        AUTOLOADER_CONSOLE_URL=CONSOLE_URL,
    )


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browsing]:
    with browsing(artifacts(tmp_path)) as seen:
        yield seen
    # Nothing the console did broke its own Content-Security-Policy or threw.
    broken = [p for p in seen.problems if "Content Security Policy" in p or "page error" in p]
    assert not broken, broken


def sign_in(page: Page, base_url: str, key: str) -> None:
    page.goto(f"{base_url}/")  # the root leads to the console
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()


def test_a_data_engineer_works_through_the_console(
    environment: dict[str, str],
    api: ApiProcess,
    worker: WorkerProcess,
    place: Place,
    spark: SparkSession,
    browser: Browsing,
) -> None:
    tenant_id, key = api.tenant(scopes=("write",))
    table = f"t_{uuid.uuid4().hex[:10]}"
    name = f"orders-{uuid.uuid4().hex[:6]}"
    place.put({"a.csv": csv_of(range(1, 4)), "b.csv": csv_of(range(4, 7))})
    page = browser.page

    # Sign in: the header names the tenant and the key's scopes.
    page.goto(f"{api.base_url}/")
    expect(page).to_have_url(re.compile(r"/ui/"))
    browser.shot("01-sign-in")
    sign_in(page, api.base_url, key)
    expect(page.get_by_test_id("who")).to_contain_text(tenant_id)
    expect(page.get_by_test_id("who")).to_contain_text("write")
    expect(page.get_by_text("No ingestions yet")).to_be_visible()

    # The wizard: source, format, destination; the preview shows columns and rows as typed.
    page.get_by_role("link", name="New ingestion").first.click()
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Source URI").fill(place.uri)
    page.get_by_label("File glob").fill("*.csv")
    page.get_by_label("Credential reference").fill(place.credential_ref or "")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Schema (DDL)").fill("id BIGINT, name STRING, amount DOUBLE")
    page.get_by_label("Corrupt records").select_option("fail")
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Namespace").fill(NAMESPACE)
    page.get_by_label("Table", exact=True).fill(table)
    preview = page.get_by_test_id("preview")
    expect(preview.get_by_test_id("matching-files")).to_contain_text(
        "2 matching files", timeout=PREVIEW_TIMEOUT_MS
    )
    columns = preview.get_by_test_id("preview-columns")
    for column, kind in (("id", "bigint"), ("name", "string"), ("amount", "double")):
        expect(columns.locator("tr", has_text=column).first).to_contain_text(kind)
    expect(preview.get_by_test_id("preview-rows")).to_contain_text("name-1")
    expect(preview.get_by_test_id("preview-rows").locator("tbody tr")).to_have_count(6)
    expect(preview).to_contain_text("does not exist yet")
    browser.shot("02-wizard-preview")

    # The schedule in words with its next five runs; a bad cron is refused at its field.
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Preset").select_option(label="Every 15 minutes")
    expect(page.get_by_test_id("schedule-words")).to_have_text("every 15 minutes, UTC")
    expect(page.locator("ol.upcoming li")).to_have_count(5)
    page.get_by_label("Cron", exact=True).fill("61 * * * *")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Create ingestion").click()
    cron_field = page.locator('[data-field="schedule.cron"]')
    expect(cron_field.locator(".field-error")).to_contain_text("cron")
    browser.shot("03-wizard-field-error")
    # Manual only: no scheduled run races the runs this test starts.
    page.get_by_label("Preset").select_option(label="Manual only")
    expect(page.get_by_test_id("schedule-words")).to_have_text("manual only")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Create ingestion").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()

    # Prefect's deployments page says which ingestion this is and links back to the console.
    with api.client(key) as client:
        [saved] = client.get("/api/v1/ingestions", params={"name": name}).json()["items"]
    deployment = httpx.get(
        f"{environment['PREFECT_API_URL']}/deployments/{saved['deployment_id']}", timeout=30
    ).json()
    for words in (name, tenant_id, place.uri, f"lake.{NAMESPACE}.{table}"):
        assert words in deployment["description"], deployment["description"]
    assert f"{CONSOLE_URL}/#/ingestions/{saved['id']}" in deployment["description"]

    # Run it now: the run page follows it to Completed with its file and row counts.
    page.get_by_role("button", name="Run now").click()
    expect(page.get_by_test_id("run-state")).to_have_text("Completed", timeout=RUN_TIMEOUT_MS)
    expect(page.get_by_test_id("files-loaded")).to_have_text("2")
    expect(page.get_by_test_id("rows-loaded")).to_have_text("6")
    expect(page.get_by_role("link", name="Open in Prefect")).to_have_attribute(
        "href", re.compile(r"/runs/flow-run/[0-9a-f-]{36}$")
    )
    expect(page.get_by_test_id("logs")).to_contain_text("listed 2 files")
    browser.shot("04-run-completed")

    # The files table lists both files as loaded.
    page.get_by_role("link", name="the ingestion").click()
    files = page.get_by_test_id("files")
    for path in ("a.csv", "b.csv"):
        expect(files.locator(f'tr[data-path$="/{path}"]')).to_contain_text("loaded")
    browser.shot("05-ingestion-detail")

    # A broken file: the next run completes with failures and names it, with its reason.
    place.put({"bad.csv": b"id,name,amount\nseven,x,y\n"})
    page.get_by_role("button", name="Run now").click()
    page.get_by_role("link", name="follow it").click()
    expect(page.get_by_test_id("run-state")).to_have_text(
        "Completed with failures", timeout=RUN_TIMEOUT_MS
    )
    expect(page.get_by_test_id("files-failed")).to_have_text("1")
    failure = page.get_by_test_id("failures").locator("tr", has_text="bad.csv")
    expect(failure).to_contain_text("malformed")
    browser.shot("06-run-with-failures")

    # Fix the file, reprocess it from the files table, run: it loads.
    page.get_by_role("link", name="the ingestion").click()
    page.get_by_label("File status").select_option("failed")
    bad = page.get_by_test_id("files").locator('tr[data-path$="/bad.csv"]')
    expect(bad).to_contain_text("malformed")
    browser.shot("07-files-failed")
    place.put({"bad.csv": csv_of(range(10, 12))})
    bad.get_by_role("checkbox").check()
    page.get_by_role("button", name="Reprocess 1 selected").click()
    expect(page.get_by_role("status").filter(has_text="1 files sent back")).to_be_visible()
    page.get_by_label("File status").select_option("")
    page.get_by_role("button", name="Run now").click()
    page.get_by_role("link", name="follow it").click()
    expect(page.get_by_test_id("run-state")).to_have_text("Completed", timeout=RUN_TIMEOUT_MS)
    expect(page.get_by_test_id("rows-loaded")).to_have_text("2")
    page.get_by_role("link", name="the ingestion").click()
    fixed = page.get_by_test_id("files").locator('tr[data-path$="/bad.csv"]')
    expect(fixed).to_contain_text("loaded")
    name_of = f"lake.{NAMESPACE}.{table}"
    spark.catalog.refreshTable(name_of)
    assert sorted(r.id for r in spark.table(name_of).select("id").collect()) == [
        *range(1, 7),
        10,
        11,
    ]

    # Pause and resume.
    page.get_by_role("button", name="Pause").click()
    expect(page.locator("h1 .badge")).to_have_text("paused")
    page.get_by_role("button", name="Resume").click()
    expect(page.locator("h1 .badge")).to_have_text("active")

    # A full refresh shows what it would do (its dry run) and does nothing until confirmed.
    page.get_by_role("button", name="Refresh full…").click()
    plan = page.get_by_role("dialog", name="Confirm the refresh")
    expect(plan).to_contain_text("deletes 8 rows and loads 3 files again")
    plan.get_by_role("button", name="Cancel").click()
    expect(plan).to_have_count(0)

    # Edit: the wizard opens with the ingestion as stored; a daily schedule is saved (If-Match).
    page.get_by_role("link", name="Edit").click()
    expect(page.get_by_label("Source URI")).to_have_value(place.uri)
    page.get_by_role("button", name="4. Schedule").click()
    page.get_by_label("Preset").select_option(label="Daily at 02:00")
    page.get_by_label("Time zone").fill("Europe/Paris")
    expect(page.get_by_test_id("schedule-words")).to_have_text("at 02:00, Europe/Paris")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_be_visible()
    page.get_by_role("status").get_by_role("link", name=name).click()
    expect(page.locator(".card", has_text="Destination")).to_contain_text("at 02:00, Europe/Paris")
    # Prefect's scheduler (it runs once a minute or so) puts runs ahead; the soonest is shown.
    expect(page.get_by_test_id("scheduled-ahead")).to_contain_text(
        re.compile(r"scheduled ahead, the next due in \d+ (h|min|s)"), timeout=SCHEDULER_TIMEOUT_MS
    )

    # The home page: the ingestion with its schedule, last and next run, and files.
    page.get_by_role("link", name="Ingestions").click()
    row = page.get_by_test_id("ingestions").locator("tr", has_text=name)
    expect(row).to_contain_text("at 02:00, Europe/Paris")
    expect(row).to_contain_text("Completed")
    expect(row.locator("td").nth(4)).to_contain_text(re.compile(r"in \d+ (h|min|s)"))
    browser.shot("08-ingestions")

    # A read-only key of the same tenant sees everything and no control that writes.
    reader = api.key(tenant_id, ("read",))
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, api.base_url, reader)
    expect(page.get_by_test_id("who")).to_contain_text("read")
    expect(page.get_by_role("link", name="New ingestion")).to_have_count(0)
    page.get_by_role("link", name=name).click()
    expect(page.get_by_test_id("files")).to_be_visible()
    for control in ("Run now", "Pause", "Resume", "Delete", "Refresh full…", "Edit"):
        expect(page.get_by_role("button", name=control, exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_test_id("files").get_by_role("checkbox")).to_have_count(0)
    expect(page.get_by_role("button", name=re.compile("Reprocess"))).to_have_count(0)
    expect(page.get_by_role("heading", name="Refresh")).to_have_count(0)
    expect(page.get_by_test_id("runs").locator("tbody tr", has_text="Completed")).to_have_count(3)
    browser.shot("09-read-only")
    page.goto(f"{api.base_url}/ui/#/new")
    expect(page.get_by_role("alert")).to_contain_text("may only read")

    # A wrong key is refused, in words, and nothing of the tenant shows.
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, api.base_url, "al_000000000000_" + "x" * 32)
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.get_by_test_id("who")).to_have_count(0)
    expect(page.get_by_label("API key")).to_be_visible()
    browser.shot("10-wrong-key")


def test_the_api_pex_serves_the_console_with_a_strict_policy(
    environment: dict[str, str], browser: Browsing, tmp_path: Path
) -> None:
    pex = Path("components.api/api.pex")
    assert pex.is_file(), "the API's PEX is a runtime dependency of this test"
    api = ApiProcess(environment, tmp_path / "api-pex.log", command=(sys.executable, str(pex)))
    try:
        _, key = api.tenant(scopes=("write",))
        page = browser.page
        answer = page.goto(f"{api.base_url}/ui/")
        assert answer is not None and answer.status == 200
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        script = page.locator("script[src]").first.get_attribute("src") or ""
        assert script.startswith("/ui/assets/"), script
        asset = httpx.get(f"{api.base_url}{script}", timeout=10)
        assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"]
        assert asset.headers["content-type"].startswith("text/javascript")
        # The app from the PEX runs: it signs in and shows the tenant's (empty) home page.
        sign_in(page, api.base_url, key)
        expect(page.get_by_text("No ingestions yet")).to_be_visible()
        browser.shot("00-served-from-pex")
    finally:
        api.stop()
