"""Entry point of the api PEX: serves the app with uvicorn."""

from __future__ import annotations

import argparse

import uvicorn

from autoloader_api.app import create_app
from autoloader_core.settings import get_settings


def main(argv: list[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="autoloader-api", description="Autoloader REST API.")
    parser.add_argument("--host", default=settings.api_host, help="address to listen on")
    parser.add_argument("--port", type=int, default=settings.api_port, help="port to listen on")
    args = parser.parse_args(argv)
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
