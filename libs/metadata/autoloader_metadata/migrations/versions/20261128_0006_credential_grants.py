"""credential grants

Revision ID: 20261128_0006
Revises: 20261128_0005
Create Date: 2026-11-28 22:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261128_0006"
down_revision: str | None = "20261128_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credential_grants",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("credential_ref", sa.String(length=256), nullable=False),
        sa.Column("granted_by", sa.String(length=128), nullable=True),
        sa.Column(
            "granted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_credential_grants_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "credential_ref", name=op.f("pk_credential_grants")),
    )


def downgrade() -> None:
    op.drop_table("credential_grants")
