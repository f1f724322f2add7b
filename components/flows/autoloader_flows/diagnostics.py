"""A flow that reports what a worker's environment can reach: the first thing to run on a new pool."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

from prefect import flow, get_run_logger

PACKAGES = ("prefect", "pyspark-client", "s3fs", "adlfs", "gcsfs", "sqlalchemy")


def installed_versions() -> dict[str, str]:
    versions: dict[str, str] = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = "missing"
    return versions


@flow(name="autoloader-diagnostics", log_prints=False)
def diagnostics() -> dict[str, str]:
    """Logs and returns the versions installed where the flow runs."""
    versions = installed_versions()
    get_run_logger().info("worker environment: %s", versions)
    return versions
