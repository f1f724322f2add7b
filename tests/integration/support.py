"""Helpers shared by the integration tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

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


def fresh_database(database_url: str, name: str) -> str:
    """Creates an empty database next to the one in `database_url`; returns its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def migrated_database(database_url: str, prefix: str) -> str:
    """A fresh database at the newest schema revision; returns its URL."""
    import uuid

    from alembic import command
    from autoloader_metadata.db import alembic_config

    url = fresh_database(database_url, f"{prefix}_{uuid.uuid4().hex[:8]}")
    command.upgrade(alembic_config(url), "head")
    return url


def create_ingestion(sessions: Any, **fields: Any) -> Any:
    """A new tenant with one ingestion (defaults: CSV from s3://landing/orders/); returns its id."""
    import uuid

    from autoloader_metadata.db import transaction
    from autoloader_metadata.enums import FileFormat
    from autoloader_metadata.repositories import TenantRepository
    from autoloader_model.ingestion import spec_of_columns
    from autoloader_model.store import IngestionStore

    values: dict[str, Any] = {
        "source_uri": "s3://landing/orders/",
        "format": FileFormat.CSV,
        "destination_catalog": "lake",
        "destination_namespace": "sales",
        # A table of its own: each call makes a new tenant, and a table has one owner.
        "destination_table": f"orders_{uuid.uuid4().hex[:10]}",
        **fields,
    }
    with transaction(sessions) as session:
        tenant = TenantRepository(session).create(f"tenant-{uuid.uuid4().hex[:8]}")
        return (
            IngestionStore(session).create(tenant.id, spec_of_columns(name="orders", **values)).id
        )


def prefect_call(call: Callable[[Any], Coroutine[Any, Any, T]]) -> T:
    """Runs `call(client)` with a client of the stack's Prefect (PREFECT_API_URL is set by
    `prefect_settings`). Named explicitly: Prefect's get_client() reads the settings captured
    when prefect was first imported, before that fixture ran, and would otherwise start an
    ephemeral server of its own (an empty one, where every deployment is "not found")."""
    import os

    from prefect.client.orchestration import PrefectClient

    async def go() -> T:
        async with PrefectClient(os.environ["PREFECT_API_URL"]) as client:
            return await call(client)

    return asyncio.run(go())


def csv_of(ids: range) -> bytes:
    """A CSV of rows `id,name-<id>,<id * 1.5>` under the header `id,name,amount`."""
    return ("id,name,amount\n" + "".join(f"{i},name-{i},{i * 1.5}\n" for i in ids)).encode()
