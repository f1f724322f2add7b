"""run heartbeats

Revision ID: 20261128_0003
Revises: 20261128_0002
Create Date: 2026-11-28 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261128_0003"
down_revision: str | None = "20261128_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "run_heartbeats",
        sa.Column("flow_run_id", sa.Uuid(), nullable=False),
        sa.Column("ingestion_id", sa.Uuid(), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "beat_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["ingestion_id"],
            ["ingestions.id"],
            name=op.f("fk_run_heartbeats_ingestion_id_ingestions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("flow_run_id", name=op.f("pk_run_heartbeats")),
    )
    op.create_index(
        op.f("ix_run_heartbeats_ingestion_id"), "run_heartbeats", ["ingestion_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_run_heartbeats_ingestion_id"), table_name="run_heartbeats")
    op.drop_table("run_heartbeats")
