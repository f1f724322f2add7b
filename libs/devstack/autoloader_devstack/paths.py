"""Where provisioned tools are cached and where a stack keeps its state."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Tools built or downloaded once per machine (venvs, jars, binaries), shared by every clone."""
    configured = os.environ.get("AUTOLOADER_CACHE")
    path = Path(configured) if configured else Path.home() / ".cache" / "autoloader"
    path.mkdir(parents=True, exist_ok=True)
    return path


def find_repo_file(relative: str) -> Path:
    """Finds a file of the repository from the working directory or from this package's location.

    Works from a checkout (./dev) and from a Pants test sandbox, where declared files sit
    relative to the sandbox root.
    """
    candidates = [Path.cwd(), *Path(__file__).resolve().parents]
    for base in candidates:
        path = base / relative
        if path.is_file():
            return path
    raise FileNotFoundError(f"{relative} not found from {Path.cwd()} or {Path(__file__).parent}")
