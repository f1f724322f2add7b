"""Bringing a metadata store up to this code: its schema, then its stored documents."""

from __future__ import annotations

from alembic import command
from autoloader_metadata.db import alembic_config, session_factory, short_lived_engine, transaction
from autoloader_model.store import IngestionStore


def upgrade_to_head(url: str) -> int:
    """Migrates the schema to head and renders every stored ingestion document again (their
    layout is the code's, not the schema's); returns how many were rendered."""
    command.upgrade(alembic_config(url), "head")
    with short_lived_engine(url) as engine, transaction(session_factory(engine)) as session:
        return IngestionStore(session).refresh_documents()
