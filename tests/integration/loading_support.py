"""Helpers of the loading tests: an ingestion over a fresh place, and its first batch claimed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from autoloader_discovery.discover import discover
from autoloader_ingest.batches import BatchResult, load_claimed_batch
from autoloader_metadata.db import transaction
from autoloader_metadata.enums import FileFormat
from autoloader_metadata.ledger import FileLedger
from autoloader_metadata.models import LedgerFile
from autoloader_model.ingestion import Ingestion, spec_of_columns
from autoloader_model.store import IngestionStore
from pyspark.sql import SparkSession
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from stores import Place
from support import create_ingestion

from autoloader_storage.credentials import resolve
from autoloader_storage.reach import ReachPolicy
from autoloader_storage.uri import parse_source_uri

LATER = datetime.now(UTC) + timedelta(hours=1)
NAMESPACE = "it_loading"


def new_ingestion(
    sessions: sessionmaker[Session],
    place: Place,
    tenant_id: uuid.UUID | None = None,
    **fields: Any,
) -> Ingestion:
    """An ingestion of a new tenant, or of `tenant_id` (a table has one owning tenant)."""
    table = f"t_{uuid.uuid4().hex[:10]}"
    values = {
        "source_uri": place.uri,
        "credential_ref": place.credential_ref,
        "format": FileFormat.CSV,
        "destination_catalog": "lake",
        "destination_namespace": NAMESPACE,
        "destination_table": table,
        **fields,
    }
    if tenant_id is None:
        ingestion_id = create_ingestion(sessions, **values)
    else:
        with transaction(sessions) as session:
            spec = spec_of_columns(name=f"i-{uuid.uuid4().hex[:8]}", **values)
            ingestion_id = IngestionStore(session).create(tenant_id, spec).id
    with sessions() as session:
        ingestion = IngestionStore(session).find(ingestion_id)
    assert ingestion is not None
    return ingestion


def discover_and_claim(sessions: sessionmaker[Session], ingestion: Ingestion, place: Place) -> Any:
    with transaction(sessions) as session:
        discover(session, ingestion, LATER, place.environ)
        return FileLedger(session).claim_batch(ingestion.id, 1000, 10**12)


def ingest(
    sessions: sessionmaker[Session], spark: SparkSession, ingestion: Ingestion, place: Place
) -> BatchResult:
    """Discovers the place's files and loads the first batch of them."""
    batch = discover_and_claim(sessions, ingestion, place)
    assert batch is not None, "discovery should have found files to load"
    return load_claimed_batch(
        sessions, spark, ingestion, batch, access=spark_access(ingestion, place)
    )


def spark_access(ingestion: Ingestion, place: Place) -> dict[str, str]:
    """The Hadoop settings a run gives Spark for the ingestion's source, as the flow does."""
    source = parse_source_uri(ingestion.spec.source.uri)
    connection = resolve(ingestion.spec.source.credential_ref, source.kind, place.environ)
    return ReachPolicy().spark_access(source, connection, ingestion.spec.cluster)


def files_by_name(sessions: sessionmaker[Session], ingestion: Ingestion) -> dict[str, LedgerFile]:
    """The ingestion's ledger files by file name."""
    with sessions() as session:
        rows = session.scalars(
            select(LedgerFile).where(LedgerFile.ingestion_id == ingestion.id)
        ).all()
    return {row.path.rsplit("/", 1)[1]: row for row in rows}
