"""Writes the API's OpenAPI document, the contract the web console's types are generated from
(`./dev openapi` rewrites components/api/autoloader_api/openapi.json with it). A test checks the
committed copy is current."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from autoloader_api.app import create_app


def document() -> dict[str, Any]:
    return create_app().openapi()


def render() -> str:
    return json.dumps(document(), indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m autoloader_api.openapi_document PATH", file=sys.stderr)
        return 2
    Path(argv[0]).write_text(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
