"""Fixtures that hand tests the addresses of real services.

Under `./dev test`, AUTOLOADER_STACK_ENV names the env file of a stack started once for the
whole suite. A test file run alone (`./pants test tests/integration/test_postgres.py`) starts the
services it needs itself, on free ports, and stops them when it ends: as local processes, or as
containers where AUTOLOADER_TEST_CONTAINERS=1 and a Docker engine answers (see containers.py).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import containers
import pytest
from api_process import ApiProcess
from autoloader_metadata.db import make_engine, session_factory
from prefect_workers import WorkerProcess
from pyspark.sql import SparkSession
from sqlalchemy.orm import Session, sessionmaker
from stores import Place, new_place
from support import StackFactory

from autoloader_devstack import stack
from autoloader_devstack.context import read_env_file
from autoloader_spark.session import connect


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "integration: needs the real services of the dev stack")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def services() -> Iterator[StackFactory]:
    """`services("s3", "spark")` returns the settings of those services, starting any missing."""
    env_file = os.environ.get("AUTOLOADER_STACK_ENV")
    settings: dict[str, str] = read_env_file(Path(env_file)) if env_file else {}
    roots: list[Path] = []
    stops: list[containers.Stop] = []
    base = Path(tempfile.mkdtemp(prefix="autoloader-it-"))

    def need(*names: str) -> dict[str, str]:
        absent = stack.missing(names, settings)
        if absent and env_file:
            pytest.fail(f"The stack in {env_file} does not provide {', '.join(absent)}.")
        if absent and containers.wanted():
            stops.extend(containers.start(absent, settings))
            absent = stack.missing(names, settings)
        if absent:
            root = base / f"stack-{len(roots)}"
            roots.append(root)
            settings.update(stack.start(root, absent, use_free_ports=True, given=settings))
        return dict(settings)

    yield need
    for root in reversed(roots):
        stack.stop(root)
    for stop in reversed(stops):
        stop()


@pytest.fixture(scope="session")
def prefect_settings(
    services: StackFactory, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """The stack's settings with Prefect in it, and Prefect's client pointed at it.

    Prefect reads these when first imported; its profile is kept out of the user's home.
    """
    settings = services("prefect")
    os.environ["PREFECT_API_URL"] = settings["PREFECT_API_URL"]
    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect-home"))
    return settings


# For modules that define `stack` (with S3) and, for the API, `environment`; a module that
# defines its own `place` or `api` uses that instead.
@pytest.fixture(scope="module")
def place(stack: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Place:
    return new_place("s3", stack, tmp_path_factory.mktemp("place"))


# For modules that define `stack` with Spark.
@pytest.fixture(scope="module")
def spark(stack: dict[str, str]) -> Iterator[SparkSession]:
    session = connect(stack["AUTOLOADER_SPARK_REMOTE"])
    yield session
    session.stop()  # before the stack stops: an open client retries a dead server at exit


# Where Spark runs in the dev stack: `local[*]` (executors inside the Connect server's JVM), and
# a standalone cluster whose executors are other JVMs (settings travel with each task there).
SPARK_SETUPS = {
    "local": ("spark", "AUTOLOADER_SPARK_REMOTE"),
    "standalone": ("spark-cluster", "AUTOLOADER_SPARK_CLUSTER_REMOTE"),
}


# For modules whose tests must hold on both: `spark = spark_everywhere` in the module runs each
# of its tests once per set-up.
@pytest.fixture(scope="module", params=list(SPARK_SETUPS))
def spark_everywhere(
    request: pytest.FixtureRequest, services: StackFactory
) -> Iterator[SparkSession]:
    service, setting = SPARK_SETUPS[request.param]
    session = connect(services(service)[setting])
    yield session
    session.stop()


# For modules that define `database` (the URL of their migrated database).
@pytest.fixture(scope="module")
def sessions(database: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="module")
def api(
    environment: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiProcess]:
    process = ApiProcess(environment, tmp_path_factory.mktemp("api") / "api.log")
    yield process
    process.stop()


# A Prefect worker with the API's settings, for modules that define `environment`.
@pytest.fixture(scope="module")
def worker(
    environment: dict[str, str], api: ApiProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    process = WorkerProcess(environment, tmp_path_factory.mktemp("worker") / "worker.log")
    yield process
    process.stop()
