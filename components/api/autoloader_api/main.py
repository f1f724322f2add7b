"""Entry point of the api PEX: checks the metadata database, then serves the app with uvicorn."""

from __future__ import annotations

import argparse
import sys

import uvicorn
from autoloader_metadata.db import check_ready, short_lived_engine
from autoloader_metadata.errors import DatabaseUnavailable, SchemaOutOfDate

from autoloader_api import serving
from autoloader_api.app import create_app
from autoloader_core.settings import get_settings


def preflight(database_url: str) -> None:
    """Exits with a clear message when the database is unreachable or not migrated."""
    try:
        with short_lived_engine(database_url) as engine:
            check_ready(engine)
    except (DatabaseUnavailable, SchemaOutOfDate) as error:
        print(f"autoloader-api cannot start: {error}", file=sys.stderr)
        sys.exit(1)


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="autoloader-api", description="Autoloader REST API.")
    parser.add_argument("--host", default=settings.api_host, help="address to listen on")
    parser.add_argument("--port", type=int, default=settings.api_port, help="port to listen on")
    parser.add_argument(
        "--workers", type=int, default=1, help="processes serving the port (default 1)"
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="uvicorn's level; below info, requests are not logged one by one",
    )
    args = parser.parse_args(argv)
    preflight(settings.database_url.get_secret_value())
    if args.workers > 1:
        serving.serve(args.host, args.port, args.workers, args.log_level)
    else:
        uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
