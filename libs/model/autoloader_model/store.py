"""The one repository of ingestions: tenant scoping, the soft-delete filter, versions and the
stored document, in one place. Every write bumps `version` under a compare-and-set (`WHERE
version = expected`) and renders the row's document in the same statement.

It works on a synchronous Session: workers and migrate use one directly, and the API runs the
same functions on its asyncio engine (`AsyncSession.run_sync`), so a call to Prefect can never
happen inside one of these transactions.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from autoloader_metadata.enums import FileStatus, IngestionStatus
from autoloader_metadata.errors import Conflict, Invalid, NotFound, StaleVersion
from autoloader_metadata.models import Ingestion as IngestionRow
from autoloader_metadata.models import Tenant
from autoloader_metadata.tables import TableName, TableOwnership
from autoloader_model.ingestion import Ingestion, spec_columns
from autoloader_model.spec import IngestionSpec
from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

_LIVE = IngestionRow.status != IngestionStatus.DELETED


@dataclass(frozen=True)
class SqlStatement:
    """A statement in PostgreSQL's own form ($1, $2 …) for a driver run without SQLAlchemy:
    the API's hot reads."""

    sql: str
    arguments: tuple[Any, ...] = ()


def page_statement(
    tenant_id: uuid.UUID,
    limit: int,
    offset: int,
    status: IngestionStatus | None = None,
    name_pattern: str | None = None,
) -> SqlStatement:
    """A page by name (the unique live-name index) of a tenant's live ingestions: id, stored
    document (NULL when plain SQL changed the row: render_cleared fills it in) and the count of
    all that match, on every row."""
    where, arguments = "tenant_id = $1 AND status <> 'deleted'", [tenant_id, limit, offset]
    if status is not None:
        arguments.append(status.value)
        where += f" AND status = ${len(arguments)}"
    if name_pattern is not None:
        arguments.append(name_pattern)
        where += f" AND name ILIKE ${len(arguments)} ESCAPE '\\'"
    return SqlStatement(_page_sql(where), tuple(arguments))


_ONE = """
SELECT i.version, i.document, coalesce(
  (SELECT json_object_agg(status, n)
   FROM (SELECT status, count(*) AS n FROM files WHERE ingestion_id = i.id GROUP BY status) s),
  '{}'::json)::text AS file_counts
FROM ingestions i WHERE i.id = $1 AND i.tenant_id = $2 AND i.status <> 'deleted'
"""
# The document's last field, which a single read fills in with the files counted by status.
_NO_COUNTS = '"file_counts":null}'


def one_statement(tenant_id: uuid.UUID, ingestion_id: uuid.UUID) -> SqlStatement:
    """The tenant's live ingestion: its version, stored document and files counted by status."""
    return SqlStatement(_ONE, (ingestion_id, tenant_id))


def with_file_counts(document: str, file_counts_json: str) -> str | None:
    """A stored document with its files counted (None when it is not in the expected form,
    and the caller renders it instead)."""
    if not document.endswith(_NO_COUNTS):
        return None
    return f'{document[: -len("null}")]}{file_counts_json}}}'


@lru_cache(maxsize=8)
def _page_sql(where: str) -> str:
    return (
        f"SELECT id, document, (SELECT count(*) FROM ingestions WHERE {where}) AS total"
        f" FROM ingestions WHERE {where} ORDER BY name LIMIT $2 OFFSET $3"
    )


def destination_of(spec: IngestionSpec) -> TableName:
    destination = spec.destination
    return TableName.of(destination.catalog, destination.namespace, destination.table)


class IngestionStore:
    def __init__(self, session: Session) -> None:
        self.session = session

    # -- reads ----------------------------------------------------------------------------

    def get(self, tenant_id: uuid.UUID, ingestion_id: uuid.UUID) -> Ingestion:
        """The tenant's live ingestion; another tenant's (or a deleted one) is not found."""
        row = self.session.execute(
            select(IngestionRow).where(
                IngestionRow.id == ingestion_id, IngestionRow.tenant_id == tenant_id, _LIVE
            )
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"ingestion {ingestion_id} does not exist")
        return Ingestion.of_row(row)

    def find(self, ingestion_id: uuid.UUID) -> Ingestion | None:
        """Any ingestion by id, deleted ones included: for the installation's own processes."""
        row = self.session.get(IngestionRow, ingestion_id)
        return None if row is None else Ingestion.of_row(row)

    def find_live(self, ingestion_id: uuid.UUID) -> Ingestion | None:
        """A live ingestion by id, whichever its tenant: for the installation's own processes."""
        found = self.find(ingestion_id)
        return found if found is not None and found.status is not IngestionStatus.DELETED else None

    def named(self, tenant_id: uuid.UUID, name: str) -> Ingestion | None:
        """The tenant's live ingestion of that name (names are unique among them)."""
        row = self.session.execute(
            select(IngestionRow).where(
                IngestionRow.name == name, IngestionRow.tenant_id == tenant_id, _LIVE
            )
        ).scalar_one_or_none()
        return None if row is None else Ingestion.of_row(row)

    def by_deployment(self, tenant_id: uuid.UUID, deployment_id: uuid.UUID) -> Ingestion | None:
        row = self.session.execute(
            select(IngestionRow).where(
                IngestionRow.prefect_deployment_id == deployment_id,
                IngestionRow.tenant_id == tenant_id,
                _LIVE,
            )
        ).scalar_one_or_none()
        return None if row is None else Ingestion.of_row(row)

    def every(self) -> list[Ingestion]:
        """Every ingestion, deleted ones included, oldest first (for reconciliation)."""
        rows = self.session.scalars(select(IngestionRow).order_by(IngestionRow.created_at))
        return [Ingestion.of_row(row) for row in rows]

    def file_counts(self, ingestion_id: uuid.UUID) -> dict[FileStatus, int]:
        from autoloader_metadata.models import LedgerFile

        rows = self.session.execute(
            select(LedgerFile.status, func.count())
            .where(LedgerFile.ingestion_id == ingestion_id)
            .group_by(LedgerFile.status)
        )
        return {FileStatus(status): int(count) for status, count in rows}

    def render_cleared(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
        """The documents of rows whose stored one was cleared, rendered from the rows now."""
        if not ids:
            return {}
        rows = self.session.scalars(select(IngestionRow).where(IngestionRow.id.in_(ids)))
        return {row.id: Ingestion.of_row(row).document_json() for row in rows}

    # -- writes ---------------------------------------------------------------------------

    def create(
        self, tenant_id: uuid.UUID, spec: IngestionSpec, actor: str | None = None
    ) -> Ingestion:
        if self.session.get(Tenant, tenant_id) is None:
            raise Invalid(f"tenant {tenant_id} does not exist")
        TableOwnership(self.session).claim(tenant_id, destination_of(spec), actor)
        now = datetime.now(UTC)
        record = Ingestion(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            status=IngestionStatus.PAUSED if spec.paused else IngestionStatus.ACTIVE,
            version=1,
            spec=spec,
            created_at=now,
            updated_at=now,
            created_by=actor,
            updated_by=actor,
        )
        self._write(insert(IngestionRow).values(**self._columns(record)), spec.name)
        return record

    def change(
        self,
        current: Ingestion,
        *,
        spec: IngestionSpec | None = None,
        status: IngestionStatus | None = None,
        actor: str | None = None,
    ) -> Ingestion:
        """Stores `current` changed, as its next version, unless it is no longer the stored
        one: StaleVersion then (or NotFound, when it was deleted meanwhile)."""
        spec = spec or current.spec
        status = status or current.status
        if status is not IngestionStatus.DELETED:
            paused = status is IngestionStatus.PAUSED
            spec = spec.model_copy(update={"paused": paused})
            if destination_of(spec) != destination_of(current.spec):
                TableOwnership(self.session).claim(current.tenant_id, destination_of(spec), actor)
        record = current.model_copy(
            update={
                "spec": spec,
                "status": status,
                "version": current.version + 1,
                "updated_at": datetime.now(UTC),
                "updated_by": actor,
            }
        )
        changed = self._write(
            update(IngestionRow)
            .where(
                IngestionRow.id == current.id,
                IngestionRow.tenant_id == current.tenant_id,
                IngestionRow.version == current.version,
                _LIVE,
            )
            .values(**self._columns(record)),
            spec.name,
        )
        if not changed:
            self._explain_missed(current)
        return record

    def mark_deployed(
        self, record: Ingestion, deployment_id: uuid.UUID | None, flow_id: uuid.UUID | None
    ) -> Ingestion | None:
        """Records that Prefect's deployment now matches `record` (None for a deleted one's
        deployment removed); None when the row moved on meanwhile (its writer deploys again)."""
        synced = record.model_copy(
            update={
                "deployment_id": deployment_id,
                "flow_id": flow_id,
                "deployed_version": record.version,
            }
        )
        result = self.session.execute(
            update(IngestionRow)
            .where(IngestionRow.id == record.id, IngestionRow.version == record.version)
            .values(
                prefect_deployment_id=deployment_id,
                prefect_flow_id=flow_id,
                deployed_version=record.version,
                document=synced.document_json(),
                updated_at=record.updated_at,  # a deployment written is no change of the row
            )
        )
        return synced if getattr(result, "rowcount", 0) else None

    def refresh_documents(self, ids: Sequence[uuid.UUID] | None = None) -> int:
        """Renders stored documents again (after a change of the document's layout)."""
        query = select(IngestionRow)
        if ids is not None:
            query = query.where(IngestionRow.id.in_(ids))
        rendered = [
            {"ingestion_id": row.id, "document": Ingestion.of_row(row).document_json()}
            for row in self.session.scalars(query).all()
        ]
        if rendered:  # updated_at kept: rendering is no change of the row
            table = cast(Table, IngestionRow.__table__)
            self.session.execute(
                update(table)
                .where(table.c.id == bindparam("ingestion_id"))
                .values(document=bindparam("document"), updated_at=table.c.updated_at),
                rendered,
            )
        return len(rendered)

    # -- helpers --------------------------------------------------------------------------

    @staticmethod
    def _columns(record: Ingestion) -> dict[str, Any]:
        return {
            **spec_columns(record.spec),
            "id": record.id,
            "tenant_id": record.tenant_id,
            "status": record.status,
            "version": record.version,
            "prefect_deployment_id": record.deployment_id,
            "prefect_flow_id": record.flow_id,
            "deployed_version": record.deployed_version,
            "created_at": record.created_at,
            "updated_at": record.updated_at,
            "created_by": record.created_by,
            "updated_by": record.updated_by,
            "document": record.document_json(),
        }

    def _write(self, statement: Any, name: str) -> int:
        """Runs an INSERT or UPDATE in a savepoint; a live name taken twice is Conflict."""
        try:
            with self.session.begin_nested():
                result = self.session.execute(statement)
        except IntegrityError as error:
            if getattr(error.orig, "sqlstate", None) == "23505":  # unique_violation
                raise Conflict(f"an ingestion named {name!r} already exists") from error
            raise
        return int(getattr(result, "rowcount", 0))

    def _explain_missed(self, current: Ingestion) -> None:
        stored = self.session.execute(
            select(IngestionRow.version).where(
                IngestionRow.id == current.id, IngestionRow.tenant_id == current.tenant_id, _LIVE
            )
        ).scalar_one_or_none()
        if stored is None:
            raise NotFound(f"ingestion {current.id} does not exist")
        raise StaleVersion(
            f"ingestion {current.id} is at version {stored}, not {current.version}: "
            "it changed meanwhile; read it again and repeat the change"
        )
