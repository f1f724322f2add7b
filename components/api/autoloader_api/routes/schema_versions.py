"""An ingestion's schema history: its table's columns after each change, and what changed."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from autoloader_metadata.errors import NotFound
from autoloader_metadata.models import LedgerFile, SchemaVersion
from autoloader_model.store import IngestionStore
from fastapi import APIRouter, Path
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from autoloader_api.auth import Reader
from autoloader_api.routes.common import Limit, Offset, ServicesDep, errors
from autoloader_api.schemas import Page, Pagination, SchemaChange, SchemaColumn, SchemaVersionOut

router = APIRouter(prefix="/api/v1/ingestions/{ingestion_id}", tags=["schema"])
FILES_LISTED = 20


@router.get("/schema-versions", responses=errors(422))
async def list_schema_versions(
    ingestion_id: uuid.UUID,
    principal: Reader,
    services: ServicesDep,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[SchemaVersionOut]:
    """Oldest first: version 1 is the table as the first batch created it."""
    tenant = principal.tenant_id

    def read(session: Session) -> tuple[list[SchemaVersionOut], int]:
        IngestionStore(session).get(tenant, ingestion_id)
        mine = SchemaVersion.ingestion_id == ingestion_id
        total = session.scalar(select(func.count()).select_from(SchemaVersion).where(mine))
        rows = session.scalars(
            select(SchemaVersion)
            .where(mine)
            .order_by(SchemaVersion.version)
            .limit(limit)
            .offset(offset)
        ).all()
        return [_out(session, row) for row in rows], total or 0

    items, total = await services.db.read(read)
    return Page(items=items, pagination=Pagination(limit=limit, offset=offset, total=total))


@router.get("/schema-versions/{version}", responses=errors(404, 422))
async def get_schema_version(
    ingestion_id: uuid.UUID,
    version: Annotated[int, Path(ge=1, le=2**31 - 1)],
    principal: Reader,
    services: ServicesDep,
) -> SchemaVersionOut:
    tenant = principal.tenant_id

    def read(session: Session) -> SchemaVersionOut:
        IngestionStore(session).get(tenant, ingestion_id)
        row = session.scalar(
            select(SchemaVersion).where(
                SchemaVersion.ingestion_id == ingestion_id, SchemaVersion.version == version
            )
        )
        if row is None:
            raise NotFound(f"ingestion {ingestion_id} has no schema version {version}")
        return _out(session, row)

    return await services.db.read(read)


def _out(session: Session, row: SchemaVersion) -> SchemaVersionOut:
    files: list[str] = []
    if row.batch_id is not None:
        files = list(
            session.scalars(
                select(LedgerFile.path)
                .where(LedgerFile.batch_id == row.batch_id)
                .order_by(LedgerFile.path)
                .limit(FILES_LISTED)
            )
        )
    change: dict[str, Any] = row.change or {}
    return SchemaVersionOut(
        version=row.version,
        columns=_columns(row.table_schema),
        change=SchemaChange(
            added_columns=list(change.get("added_columns", [])),
            widened_columns=dict(change.get("widened_columns", {})),
        ),
        trigger=row.trigger,
        resolution=row.resolution,
        batch_id=row.batch_id,
        files=files,
        created_at=row.created_at,
    )


def _columns(table_schema: dict[str, Any]) -> list[SchemaColumn]:
    return [SchemaColumn(name=f["name"], type=_type(f["type"])) for f in table_schema["fields"]]


# Spark's JSON names of the types that its SQL names otherwise.
_SQL_NAMES = {"long": "bigint", "integer": "int", "short": "smallint", "byte": "tinyint"}


def _type(spark_json: str | dict[str, Any]) -> str:
    """A type of Spark's schema JSON as SQL (struct<`a b`:bigint>), read without pyspark
    (the API does not carry Spark's client)."""
    if isinstance(spark_json, str):
        return _SQL_NAMES.get(spark_json, spark_json)
    kind = spark_json["type"]
    if kind == "struct":
        fields = ",".join(
            f"`{f['name'].replace('`', '``')}`:{_type(f['type'])}" for f in spark_json["fields"]
        )
        return f"struct<{fields}>"
    if kind == "array":
        return f"array<{_type(spark_json['elementType'])}>"
    if kind == "map":
        return f"map<{_type(spark_json['keyType'])},{_type(spark_json['valueType'])}>"
    return str(kind)
