"""ingestions may clean up their source: `after_load` keep, delete or move

A loaded file is deleted, or moved under `archive_uri`, once `retain_seconds` have passed since
its load; `files.cleaned_at` and `cleaned_to` record when and where, `cleanup_error` why the
last attempt failed (the next run retries it).

Revision ID: 20261203_0012
Revises: 20261203_0011
Create Date: 2026-12-03 18:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_0012"
down_revision: str | None = "20261203_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "ingestions",
        sa.Column(
            "after_load",
            sa.Enum(
                "keep",
                "delete",
                "move",
                name="after_load",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
            server_default="keep",
        ),
    )
    op.add_column("ingestions", sa.Column("archive_uri", sa.Text(), nullable=True))
    op.add_column(
        "ingestions",
        sa.Column("retain_seconds", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("files", sa.Column("cleaned_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("files", sa.Column("cleaned_to", sa.Text(), nullable=True))
    op.add_column("files", sa.Column("cleanup_error", sa.Text(), nullable=True))
    op.create_index(
        "ix_files_cleanable",
        "files",
        ["ingestion_id", "loaded_at"],
        postgresql_where=sa.text("status = 'loaded' AND cleaned_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_files_cleanable", table_name="files")
    op.drop_column("files", "cleanup_error")
    op.drop_column("files", "cleaned_to")
    op.drop_column("files", "cleaned_at")
    op.drop_column("ingestions", "retain_seconds")
    op.drop_column("ingestions", "archive_uri")
    op.drop_column("ingestions", "after_load")
