"""Who may write to a destination table: its owning tenant, and tenants it was shared with."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from autoloader_metadata.errors import Invalid, NotFound
from autoloader_metadata.models import TableOwner, TableShare
from sqlalchemy import delete, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session


@dataclass(frozen=True)
class TableName:
    """A destination as Spark compares it: case-insensitively."""

    catalog: str
    namespace: str
    table: str

    @classmethod
    def of(cls, catalog: str, namespace: str, table: str) -> TableName:
        return cls(catalog.lower(), namespace.lower(), table.lower())

    def __str__(self) -> str:
        return f"{self.catalog}.{self.namespace}.{self.table}"

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.catalog, self.namespace, self.table)

    @property
    def columns(self) -> dict[str, str]:
        """The name as the columns of table_owners and table_shares hold it."""
        return {"catalog": self.catalog, "namespace": self.namespace, "table_name": self.table}


class TableNotAvailable(Invalid):
    """The table belongs to another tenant. The message says no more than that."""

    def __init__(self, name: TableName) -> None:
        super().__init__(
            f"table {name} is not available to this tenant; an admin can share it with "
            "POST /api/v1/tenants/{tenant_id}/table-shares"
        )
        self.name = name


class TableOwnership:
    def __init__(self, session: Session) -> None:
        self.session = session

    def owner(self, name: TableName) -> uuid.UUID | None:
        found = self.session.get(TableOwner, name.key)
        return found.tenant_id if found is not None else None

    def allows(self, tenant_id: uuid.UUID, name: TableName) -> bool:
        """True when the table is free, the tenant's, or shared with it."""
        owner = self.owner(name)
        return owner is None or owner == tenant_id or self._shared(tenant_id, name)

    def claim(self, tenant_id: uuid.UUID, name: TableName, by: str | None = None) -> None:
        """Makes a free table the tenant's; TableNotAvailable when another tenant has it (and
        did not share it). In the caller's transaction: of two tenants claiming one free table
        at once, the second waits for the first's commit and is refused."""
        self.session.execute(
            insert(TableOwner)
            .values(**name.columns, tenant_id=tenant_id, claimed_by=by)
            .on_conflict_do_nothing()
        )
        if not self.allows(tenant_id, name):
            raise TableNotAvailable(name)

    def adopt(self, tenant_id: uuid.UUID, name: TableName, by: str | None) -> TableOwner:
        """An admin gives a table (free, or another tenant's) to a tenant."""
        statement = insert(TableOwner).values(**name.columns, tenant_id=tenant_id, claimed_by=by)
        self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["catalog", "namespace", "table_name"],
                set_={"tenant_id": tenant_id, "claimed_by": by},
            )
        )
        found = self.session.get(TableOwner, name.key, populate_existing=True)
        assert found is not None
        return found

    def share(self, tenant_id: uuid.UUID, name: TableName, by: str | None) -> None:
        """Idempotent. The table must have an owner (a free table needs no share)."""
        if self.owner(name) is None:
            raise NotFound(f"table {name} has no owner to share it; adopt it for a tenant first")
        self.session.execute(
            insert(TableShare)
            .values(**name.columns, tenant_id=tenant_id, shared_by=by)
            .on_conflict_do_nothing()
        )

    def unshare(self, tenant_id: uuid.UUID, name: TableName) -> None:
        removed = self.session.execute(delete(TableShare).where(*_share_of(tenant_id, name)))
        if not getattr(removed, "rowcount", 0):
            raise NotFound(f"table {name} is not shared with tenant {tenant_id}")

    def _shared(self, tenant_id: uuid.UUID, name: TableName) -> bool:
        return bool(self.session.scalar(select(exists().where(*_share_of(tenant_id, name)))))


def _share_of(tenant_id: uuid.UUID, name: TableName) -> tuple[Any, ...]:
    return (
        TableShare.catalog == name.catalog,
        TableShare.namespace == name.namespace,
        TableShare.table_name == name.table,
        TableShare.tenant_id == tenant_id,
    )
