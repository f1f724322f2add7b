"""Benchmarks start what they need: the stack named by AUTOLOADER_STACK_ENV, or their own."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from autoloader_devstack import stack
from autoloader_devstack.context import read_env_file
from autoloader_storage.filesystems import filesystem_for


@contextmanager
def services(*names: str) -> Iterator[dict[str, str]]:
    env_file = os.environ.get("AUTOLOADER_STACK_ENV")
    settings = read_env_file(Path(env_file)) if env_file else {}
    if not stack.missing(names, settings):
        yield settings
        return
    root = Path(tempfile.mkdtemp(prefix="autoloader-bench-"))
    try:
        yield stack.start(root, names, use_free_ports=True, given=settings)
    finally:
        stack.stop(root)


def s3_filesystem(settings: dict[str, str], **extra: Any) -> Any:
    """An s3fs filesystem on the stack's S3 store, with its generated keys."""
    return filesystem_for(
        "s3://",
        key=settings["AUTOLOADER_S3_ACCESS_KEY"],
        secret=settings["AUTOLOADER_S3_SECRET_KEY"],
        client_kwargs={"endpoint_url": settings["AUTOLOADER_S3_ENDPOINT"]},
        **extra,
    )
