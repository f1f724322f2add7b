"""ingestions carry labels: `key: value` pairs their owners choose (the CLI marks the
ingestions a set of spec files manages, so that `apply --prune` finds them)

Revision ID: 20261204_0013
Revises: 20261203_0012
Create Date: 2026-12-04 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "20261204_0013"
down_revision: str | None = "20261203_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "ingestions",
        sa.Column(
            "labels",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            server_default="{}",
        ),
    )


def downgrade() -> None:
    op.drop_column("ingestions", "labels")
