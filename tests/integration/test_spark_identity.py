"""Spark reads a source with the ingestion's own identity, the one its listing used: rows
load end to end from each store, and one tenant's credential cannot read another's bucket,
through the listing or through Spark, even where the cluster's own identity could."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from autoloader_discovery.discover import discover
from autoloader_metadata.db import transaction
from autoloader_model.ingestion import Ingestion
from identities import scoped_identity
from loading_support import LATER, NAMESPACE, ingest, new_ingestion, spark_access
from pyspark.errors import PySparkException
from pyspark.sql import SparkSession
from sqlalchemy.orm import Session, sessionmaker
from stores import KINDS, SERVICE, Place, new_place
from support import StackFactory, migrated_database

from autoloader_spark.formats import ReadSpec, reader
from autoloader_storage.errors import AccessDenied

CSV = b"id,name\n1,alpha\n2,beta\n3,gamma\n"


@pytest.fixture(scope="module")
def stack(services: StackFactory) -> dict[str, str]:
    return services("spark")


@pytest.fixture(scope="module")
def spark(spark_everywhere: SparkSession) -> SparkSession:
    """Each test runs on `local[*]` and on the standalone cluster (conftest.SPARK_SETUPS)."""
    return spark_everywhere


@pytest.fixture(scope="module")
def database(stack: dict[str, str]) -> str:
    return migrated_database(stack["AUTOLOADER_DATABASE_URL"], "it_spark_identity")


def table_rows(spark: SparkSession, ingestion: Ingestion) -> list[tuple[object, ...]]:
    table = f"lake.{NAMESPACE}.{ingestion.spec.destination.table}"
    return sorted(tuple(r) for r in spark.sql(f"SELECT id, name FROM {table}").collect())


@pytest.mark.parametrize("kind", KINDS)
def test_each_store_loads_rows_with_its_own_credential(
    kind: str,
    services: StackFactory,
    sessions: sessionmaker[Session],
    spark: SparkSession,
    tmp_path: Path,
) -> None:
    service = SERVICE[kind]
    place = new_place(kind, services(service) if service else {}, tmp_path)
    place.put({"2026/orders.csv": CSV})
    ingestion = new_ingestion(sessions, place)

    result = ingest(sessions, spark, ingestion, place)

    assert (result.loaded_files, result.failed_files, result.rows) == (1, 0, 3)
    assert table_rows(spark, ingestion) == [("1", "alpha"), ("2", "beta"), ("3", "gamma")]


@dataclass
class Tenant:
    """A bucket, and a place naming it with an identity that may read only it."""

    bucket: str
    place: Place


def new_tenant(stack: dict[str, str], folder: Path, name: str) -> Tenant:
    identity = scoped_identity(stack, name, {"in/orders.csv": CSV})
    secret = folder / f"{name}.json"
    secret.write_text(json.dumps(identity.fields()))
    root = f"{identity.bucket}/in"
    return Tenant(identity.bucket, Place("s3", f"s3://{root}", f"file:{secret}", {}, None, root))


@pytest.fixture(scope="module")
def tenants(stack: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Tenant]:
    folder = tmp_path_factory.mktemp("identities")
    return {name: new_tenant(stack, folder, name) for name in ("acme", "globex")}


def test_each_tenants_identity_loads_its_own_bucket(
    tenants: dict[str, Tenant], sessions: sessionmaker[Session], spark: SparkSession
) -> None:
    for tenant in tenants.values():
        ingestion = new_ingestion(sessions, tenant.place)

        result = ingest(sessions, spark, ingestion, tenant.place)

        assert (result.loaded_files, result.rows) == (1, 3)
        assert len(table_rows(spark, ingestion)) == 3


def test_another_tenants_bucket_is_refused_at_listing_and_at_spark(
    tenants: dict[str, Tenant], sessions: sessionmaker[Session], spark: SparkSession
) -> None:
    acme, globex = tenants["acme"], tenants["globex"]
    # globex's credential, pointed at acme's bucket.
    trespass = Place("s3", acme.place.uri, globex.place.credential_ref, {}, None, acme.place.root)
    ingestion = new_ingestion(sessions, trespass)

    with pytest.raises(AccessDenied), transaction(sessions) as session:
        discover(session, ingestion, LATER)

    path = f"s3a://{acme.bucket}/in/orders.csv"
    csv = ReadSpec("csv", {"header": "true"})
    # The cluster's own identity reads acme's bucket (and so Hadoop now caches a client for it)...
    assert reader(spark, csv, None).load(path).count() == 3
    # ...yet Spark, given globex's identity for that bucket, is refused: no cached client serves it.
    as_globex = ReadSpec("csv", {"header": "true"}, hadoop=spark_access(ingestion, trespass))
    with pytest.raises(PySparkException, match="AccessDenied|403|Forbidden"):
        reader(spark, as_globex, None).load(path).count()
