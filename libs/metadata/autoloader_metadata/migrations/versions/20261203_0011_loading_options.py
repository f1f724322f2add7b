"""ingestions gain schema hints, path columns and a choice of lineage columns

`schema_hints` types some columns (the rest inferred); `path_columns` names Hive-style folders
loaded as columns; `metadata_columns` names the lineage columns written (NULL: the four of
before, under their usual names).

Revision ID: 20261203_0011
Revises: 20261203_0010
Create Date: 2026-12-03 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "20261203_0011"
down_revision: str | None = "20261203_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("ingestions", sa.Column("schema_hints", sa.Text(), nullable=True))
    op.add_column(
        "ingestions",
        sa.Column("path_columns", JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")),
    )
    op.add_column("ingestions", sa.Column("metadata_columns", JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("ingestions", "metadata_columns")
    op.drop_column("ingestions", "path_columns")
    op.drop_column("ingestions", "schema_hints")
