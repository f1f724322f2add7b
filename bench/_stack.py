"""Benchmarks start what they need: the stack named by AUTOLOADER_STACK_ENV, or their own."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from autoloader_devstack import stack
from autoloader_devstack.context import read_env_file


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
