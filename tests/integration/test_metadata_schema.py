"""The metadata schema: migrations agree with the models, run both ways, and are checked at startup."""

from __future__ import annotations

import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from autoloader_metadata.db import alembic_config, check_ready, head_revision, make_engine
from autoloader_metadata.errors import DatabaseUnavailable, SchemaOutOfDate
from autoloader_metadata.models import Base
from sqlalchemy import inspect
from support import StackFactory, fresh_database

from autoloader_migrate.main import main as migrate_main

TABLES = set(Base.metadata.tables)  # what the models declare is what migrations must create


@pytest.fixture
def empty_db(services: StackFactory) -> str:
    url = services("postgres")["AUTOLOADER_DATABASE_URL"]
    return fresh_database(url, f"it_schema_{uuid.uuid4().hex[:8]}")


def tables(url: str) -> set[str]:
    engine = make_engine(url, pool_size=1)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_autogenerate_finds_no_difference_between_models_and_migrations(empty_db: str) -> None:
    command.upgrade(alembic_config(empty_db), "head")
    engine = make_engine(empty_db, pool_size=1)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()

    assert differences == []


def test_upgrade_downgrade_upgrade(empty_db: str) -> None:
    config = alembic_config(empty_db)

    command.upgrade(config, "head")
    assert tables(empty_db) == TABLES
    command.downgrade(config, "base")
    assert tables(empty_db) == set()
    command.upgrade(config, "head")
    assert tables(empty_db) == TABLES


def test_a_database_behind_on_migrations_says_what_to_run(empty_db: str) -> None:
    engine = make_engine(empty_db, pool_size=1)
    try:
        with pytest.raises(SchemaOutOfDate, match=r"revision none.*Run `migrate db upgrade`"):
            check_ready(engine)
        command.upgrade(alembic_config(empty_db), "head")
        assert check_ready(engine) == head_revision()
    finally:
        engine.dispose()


def test_an_unreachable_database_is_named_without_its_password() -> None:
    engine = make_engine("postgresql+psycopg://autoloader:s3cret-pw@127.0.0.1:1/meta", pool_size=1)

    with pytest.raises(DatabaseUnavailable) as raised:
        check_ready(engine)

    assert "127.0.0.1:1/meta" in str(raised.value)
    assert "s3cret-pw" not in str(raised.value)


def test_migrate_cli_upgrades_then_checks(
    empty_db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from autoloader_core.settings import get_settings

    monkeypatch.setenv("AUTOLOADER_DATABASE_URL", empty_db)
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as before:
            migrate_main(["db", "check"])
        with pytest.raises(SystemExit) as upgraded:
            migrate_main(["db", "upgrade"])
        with pytest.raises(SystemExit) as after:
            migrate_main(["db", "check"])
    finally:
        get_settings.cache_clear()

    output = capsys.readouterr()
    assert (before.value.code, upgraded.value.code, after.value.code) == (1, 0, 0)
    assert "Run `migrate db upgrade`" in output.err
    assert f"schema revision: {head_revision()}" in output.out
