"""Entry point of the migrate PEX: `migrate db upgrade|downgrade|current|check|ping`,
`migrate reconcile [--dry-run]`, `migrate import-apscheduler --jobstore-url URL [--dry-run]`,
`migrate bootstrap` (the first admin key), `migrate new-api-key`."""

from __future__ import annotations

import argparse
import asyncio
import sys

from alembic import command
from autoloader_metadata.db import (
    alembic_config,
    check_ready,
    current_revision,
    session_factory,
    short_lived_engine,
)
from autoloader_metadata.errors import DomainError
from autoloader_metadata.repositories import ApiKeyRepository, CredentialGrants, new_key
from autoloader_model.upgrade import upgrade_to_head
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from autoloader_core.settings import get_settings


def ping_database(url: str) -> str:
    """Connects and returns the server version; raises SQLAlchemyError when unreachable."""
    with short_lived_engine(url) as engine, engine.connect() as connection:
        return str(connection.execute(text("SHOW server_version")).scalar_one())


def _database_url() -> str:
    return get_settings().database_url.get_secret_value()


def _upgrade(args: argparse.Namespace) -> int:
    if args.revision == "head":  # the stored documents follow the code's layout too
        print(f"ingestion documents rendered: {upgrade_to_head(_database_url())}")
    else:
        command.upgrade(alembic_config(_database_url()), args.revision)
    return _current(args)


def _downgrade(args: argparse.Namespace) -> int:
    command.downgrade(alembic_config(_database_url()), args.revision)
    return _current(args)


def _current(args: argparse.Namespace) -> int:
    with short_lived_engine(_database_url()) as engine:
        print(f"schema revision: {current_revision(engine) or 'none (empty database)'}")
    return 0


def _check(args: argparse.Namespace) -> int:
    with short_lived_engine(_database_url()) as engine:
        print(f"the database is at the expected schema revision {check_ready(engine)}")
    return 0


def _ping(args: argparse.Namespace) -> int:
    print(f"database reachable (PostgreSQL {ping_database(_database_url())})")
    return 0


def _reconcile(args: argparse.Namespace) -> int:
    from autoloader_migrate.orchestration import run_reconcile

    for line in asyncio.run(run_reconcile(get_settings(), args.dry_run)):
        print(line)
    return 0


def _import_apscheduler(args: argparse.Namespace) -> int:
    from autoloader_migrate.orchestration import run_import

    lines, skipped = asyncio.run(
        run_import(get_settings(), args.jobstore_url, args.table, args.dry_run)
    )
    for line in lines:
        print(line)
    return 1 if skipped and args.strict else 0


def _bootstrap(args: argparse.Namespace) -> int:
    """Installs the first admin key from AUTOLOADER_ADMIN_API_KEY (a Secret); idempotent."""
    settings = get_settings()
    if settings.admin_api_key is None:
        print("bootstrap: AUTOLOADER_ADMIN_API_KEY is not set; no admin key installed")
        return 0
    with short_lived_engine(_database_url()) as engine, session_factory(engine).begin() as session:
        key, created = ApiKeyRepository(session).install(
            settings.admin_api_key.get_secret_value(), settings.admin_tenant
        )
        prefix = key.prefix
    state = "installed" if created else "already installed"
    print(f"bootstrap: admin key al_{prefix}_… {state} for tenant {settings.admin_tenant!r}")
    return 0


def _grant_existing(args: argparse.Namespace) -> int:
    """Grants each tenant the credentials its live ingestions already name, so that turning
    credential grants on (AUTOLOADER_REQUIRE_CREDENTIAL_GRANTS) stops nothing that ran before."""
    with short_lived_engine(_database_url()) as engine, session_factory(engine).begin() as session:
        grants = CredentialGrants(session)
        missing = grants.in_use_ungranted()
        for tenant_id, tenant_name, reference in missing:
            print(f"{'would grant' if args.dry_run else 'granted'} {reference} to {tenant_name}")
            if not args.dry_run:
                grants.grant(tenant_id, reference, "migrate grant-existing")
    print(f"{len(missing)} grants {'to make' if args.dry_run else 'made'}")
    return 0


def _new_api_key(args: argparse.Namespace) -> int:
    print(new_key())
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="autoloader-migrate",
        description="Autoloader's migration tool; the database URL comes from AUTOLOADER_DATABASE_URL.",
    )
    groups = parser.add_subparsers(required=True, metavar="GROUP")
    db = groups.add_parser("db", help="the metadata database schema")
    commands = db.add_subparsers(required=True, metavar="COMMAND")
    upgrade = commands.add_parser("upgrade", help="migrate the schema up (to head by default)")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(handler=_upgrade)
    downgrade = commands.add_parser("downgrade", help="migrate the schema down to a revision")
    downgrade.add_argument("revision", help="a revision id, `-1`, or `base` for an empty schema")
    downgrade.set_defaults(handler=_downgrade)
    commands.add_parser("current", help="print the schema revision").set_defaults(handler=_current)
    commands.add_parser(
        "check", help="exit 1 unless the schema is at the revision this version needs"
    ).set_defaults(handler=_check)
    commands.add_parser("ping", help="check that the database answers").set_defaults(handler=_ping)
    reconcile = groups.add_parser(
        "reconcile",
        help="crash runs whose worker died, repair missing or differing deployments",
        description="Batches of crashed runs are settled by the workers' reconciliation loop "
        "(it can check the Iceberg table) or by the next run of their ingestion.",
    )
    reconcile.add_argument("--dry-run", action="store_true", help="print, change nothing")
    reconcile.set_defaults(handler=_reconcile)
    importer = groups.add_parser(
        "import-apscheduler",
        help="move the ingestions of an APScheduler 3 job store onto Prefect deployments",
    )
    importer.add_argument(
        "--jobstore-url",
        required=True,
        help="SQLAlchemy URL of the APScheduler job store (as the old scheduler used it)",
    )
    importer.add_argument("--table", default="apscheduler_jobs", help="the job store's table")
    importer.add_argument("--dry-run", action="store_true", help="print, change nothing")
    importer.add_argument(
        "--strict", action="store_true", help="exit 1 when a job could not be carried over"
    )
    importer.set_defaults(handler=_import_apscheduler)
    groups.add_parser(
        "bootstrap", help="install the first admin API key from AUTOLOADER_ADMIN_API_KEY"
    ).set_defaults(handler=_bootstrap)
    granting = groups.add_parser(
        "grant-existing",
        help="grant each tenant the credentials its ingestions already use (before requiring grants)",
    )
    granting.add_argument("--dry-run", action="store_true", help="print, change nothing")
    granting.set_defaults(handler=_grant_existing)
    groups.add_parser(
        "new-api-key", help="print a new random API key (to put in the admin key's Secret)"
    ).set_defaults(handler=_new_api_key)
    args = parser.parse_args(argv)
    try:
        sys.exit(args.handler(args))
    except DomainError as error:
        print(str(error), file=sys.stderr)
        sys.exit(1)
    except SQLAlchemyError as error:
        # The driver's message names host and port but never the password.
        cause = getattr(error, "orig", None) or error
        print(f"database error: {type(cause).__name__}: {cause}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
