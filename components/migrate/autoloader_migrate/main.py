"""Entry point of the migrate PEX."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from autoloader_core.settings import get_settings


def ping_database(url: str) -> str:
    """Connects and returns the server version; raises SQLAlchemyError when unreachable."""
    engine = create_engine(url, pool_pre_ping=True)
    try:
        with engine.connect() as connection:
            return str(connection.execute(text("SHOW server_version")).scalar_one())
    finally:
        engine.dispose()


def _db_ping(args: argparse.Namespace) -> int:
    settings = get_settings()
    try:
        server_version = ping_database(settings.database_url.get_secret_value())
    except SQLAlchemyError as error:
        # The driver's message names host and port but never the password.
        cause = getattr(error, "orig", None) or error
        print(f"database unreachable: {type(cause).__name__}: {cause}", file=sys.stderr)
        return 1
    print(f"database reachable (PostgreSQL {server_version})")
    return 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="autoloader-migrate", description="Autoloader's migration tool."
    )
    groups = parser.add_subparsers(required=True, metavar="GROUP")
    db = groups.add_parser("db", help="the metadata database")
    db_commands = db.add_subparsers(required=True, metavar="COMMAND")
    ping = db_commands.add_parser(
        "ping", help="check that the database in AUTOLOADER_DATABASE_URL answers"
    )
    ping.set_defaults(handler=_db_ping)
    args = parser.parse_args(argv)
    sys.exit(args.handler(args))


if __name__ == "__main__":
    main()
