"""Helpers shared by the integration tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# The `services` fixture: services("s3", "spark") -> their connection settings.
StackFactory = Callable[..., dict[str, str]]


def s3_options(settings: dict[str, str]) -> dict[str, Any]:
    return {
        "key": settings["AUTOLOADER_S3_ACCESS_KEY"],
        "secret": settings["AUTOLOADER_S3_SECRET_KEY"],
        "client_kwargs": {
            "endpoint_url": settings["AUTOLOADER_S3_ENDPOINT"],
            "region_name": settings["AUTOLOADER_S3_REGION"],
        },
    }
