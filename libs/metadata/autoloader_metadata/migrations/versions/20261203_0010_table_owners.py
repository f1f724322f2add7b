"""destination tables belong to a tenant; an admin may share one with another tenant

A tenant could name another tenant's table as its destination and write rows (and columns)
into it. A table now belongs to the tenant whose ingestion named it first (recorded when the
ingestion is created), or that an admin adopted it for; another tenant's create, change,
preview or run naming it is refused unless an admin shared it (`table_shares`).

Existing ingestions: each table goes to the tenant of its earliest live ingestion. An ingestion
of another tenant on the same table stops at its next run with the reason, until an admin
shares the table with its tenant or the ingestion names another table.

Revision ID: 20261203_0010
Revises: 20261203_0009
Create Date: 2026-12-03 09:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_0010"
down_revision: str | None = "20261203_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "table_owners",
        sa.Column("catalog", sa.String(128), nullable=False),
        sa.Column("namespace", sa.String(256), nullable=False),
        sa.Column("table_name", sa.String(128), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("claimed_by", sa.String(128), nullable=True),
        sa.Column(
            "claimed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_table_owners_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("catalog", "namespace", "table_name", name=op.f("pk_table_owners")),
    )
    op.create_index(op.f("ix_table_owners_tenant_id"), "table_owners", ["tenant_id"])
    op.create_table(
        "table_shares",
        sa.Column("catalog", sa.String(128), nullable=False),
        sa.Column("namespace", sa.String(256), nullable=False),
        sa.Column("table_name", sa.String(128), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("shared_by", sa.String(128), nullable=True),
        sa.Column(
            "shared_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["catalog", "namespace", "table_name"],
            ["table_owners.catalog", "table_owners.namespace", "table_owners.table_name"],
            name=op.f("fk_table_shares_catalog_table_owners"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_table_shares_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "catalog", "namespace", "table_name", "tenant_id", name=op.f("pk_table_shares")
        ),
    )
    op.execute(
        """
        INSERT INTO table_owners (catalog, namespace, table_name, tenant_id, claimed_by)
        SELECT DISTINCT ON (lower(destination_catalog), lower(destination_namespace),
                            lower(destination_table))
               lower(destination_catalog), lower(destination_namespace),
               lower(destination_table), tenant_id, 'migration 0010'
        FROM ingestions WHERE status <> 'deleted'
        ORDER BY lower(destination_catalog), lower(destination_namespace),
                 lower(destination_table), created_at, id
        """
    )


def downgrade() -> None:
    op.drop_table("table_shares")
    op.drop_index(op.f("ix_table_owners_tenant_id"), table_name="table_owners")
    op.drop_table("table_owners")
