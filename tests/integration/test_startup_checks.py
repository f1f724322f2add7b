"""Processes refuse to start on a metadata database they cannot use, and say why."""

from __future__ import annotations

import uuid

import pytest
from alembic import command
from autoloader_metadata.db import alembic_config
from support import StackFactory, fresh_database

from autoloader_api.main import preflight


def test_the_api_refuses_an_unreachable_database(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        preflight("postgresql+psycopg://autoloader:hunter2@127.0.0.1:1/autoloader")

    error = capsys.readouterr().err
    assert exited.value.code == 1
    assert "Cannot reach the metadata database at 127.0.0.1:1/autoloader" in error
    assert "hunter2" not in error


def test_the_api_refuses_a_database_behind_on_migrations(
    services: StackFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    url = fresh_database(
        services("postgres")["AUTOLOADER_DATABASE_URL"], f"it_start_{uuid.uuid4().hex[:8]}"
    )

    with pytest.raises(SystemExit):
        preflight(url)
    behind = capsys.readouterr().err
    command.upgrade(alembic_config(url), "head")
    preflight(url)  # at head: returns without exiting

    assert "Run `migrate db upgrade`" in behind
