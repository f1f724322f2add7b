"""refresh requests

Revision ID: 20261128_0004
Revises: 20261128_0003
Create Date: 2026-11-28 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261128_0004"
down_revision: str | None = "20261128_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "refresh_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ingestion_id", sa.Uuid(), nullable=False),
        sa.Column("requested_by", sa.String(length=128), nullable=True),
        sa.Column(
            "requested_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("flow_run_id", sa.Uuid(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rows_deleted", sa.BigInteger(), nullable=True),
        sa.Column("files_reset", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ingestion_id"],
            ["ingestions.id"],
            name=op.f("fk_refresh_requests_ingestion_id_ingestions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_requests")),
    )
    op.create_index(
        "ix_refresh_requests_pending",
        "refresh_requests",
        ["ingestion_id"],
        unique=False,
        postgresql_where=sa.text("done_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_refresh_requests_pending", table_name="refresh_requests")
    op.drop_table("refresh_requests")
