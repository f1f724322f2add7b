from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from support import StackFactory

from autoloader_migrate.main import ping_database


@pytest.fixture(scope="module")
def engine(services: StackFactory) -> Iterator[Engine]:
    engine = create_engine(services("postgres")["AUTOLOADER_DATABASE_URL"])
    yield engine
    engine.dispose()


def test_sql_round_trips_through_a_real_postgresql(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TEMP TABLE probe (id int PRIMARY KEY, path text NOT NULL)"))
        connection.execute(
            text("INSERT INTO probe VALUES (:id, :path)"),
            [{"id": 1, "path": "s3://a/1.csv"}, {"id": 2, "path": "s3://a/2.csv"}],
        )
        rows = connection.execute(text("SELECT id, path FROM probe ORDER BY id")).all()
        skip_locked = connection.execute(
            text("SELECT id FROM probe ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1")
        ).scalar_one()

    assert [tuple(row) for row in rows] == [(1, "s3://a/1.csv"), (2, "s3://a/2.csv")]
    assert skip_locked == 1


def test_server_is_postgresql_15_or_newer(services: StackFactory) -> None:
    version = ping_database(services("postgres")["AUTOLOADER_DATABASE_URL"])

    assert int(version.split(".")[0]) >= 15
