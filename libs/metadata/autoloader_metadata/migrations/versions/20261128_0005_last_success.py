"""when an ingestion's run last succeeded

Revision ID: 20261128_0005
Revises: 20261128_0004
Create Date: 2026-11-28 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261128_0005"
down_revision: str | None = "20261128_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "discovery_state",
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("discovery_state", "last_success_at")
