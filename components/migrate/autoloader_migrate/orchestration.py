"""The migrate commands that talk to Prefect: reconcile and import-apscheduler."""

from __future__ import annotations

from autoloader_metadata.db import make_engine, session_factory, short_lived_engine
from autoloader_orchestration.reconcile import reconcile
from prefect.client.orchestration import get_client

from autoloader_core.settings import Settings
from autoloader_migrate.apscheduler_import import import_jobs


async def run_reconcile(settings: Settings, dry_run: bool) -> list[str]:
    with short_lived_engine(settings.database_url.get_secret_value()) as engine:
        async with get_client() as client:
            report = await reconcile(session_factory(engine), client, settings, dry_run=dry_run)
    return report.lines()


async def run_import(
    settings: Settings, jobstore_url: str, table: str, dry_run: bool
) -> tuple[list[str], int]:
    """Lines to print, one per job, and how many jobs were skipped."""
    jobstore = make_engine(_with_installed_driver(jobstore_url), pool_size=1)
    try:
        with short_lived_engine(settings.database_url.get_secret_value()) as engine:
            async with get_client() as client:
                outcomes = await import_jobs(
                    jobstore, session_factory(engine), client, settings, dry_run, table
                )
    finally:
        jobstore.dispose()
    lines = [outcome.line(dry_run) for outcome in outcomes]
    skipped = sum(1 for outcome in outcomes if outcome.skipped)
    verb = "would change" if dry_run else "changed"
    changed = sum(1 for outcome in outcomes if outcome.actions and not outcome.skipped)
    lines.append(f"{len(outcomes)} jobs: {changed} {verb}, {skipped} skipped")
    return lines, skipped


def _with_installed_driver(url: str) -> str:
    """APScheduler setups often say `postgresql://` (psycopg2); this tool ships psycopg 3."""
    for scheme in ("postgresql://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    return url
