"""ingestions gain schema hints, path columns, a choice of lineage columns, and `replace`

`schema_hints` types some columns (the rest inferred); `path_columns` names Hive-style folders
loaded as columns; `metadata_columns` names the lineage columns written (NULL: the four of
before, under their usual names). `rewritten_files` may be `replace`: a rewritten file's
earlier rows are deleted in the commit that loads it, and `files.replaces_rows` marks the files
still owed that. `write_mode` merge upserts each batch by `merge_keys`, `delete_when` naming
soft-delete markers.

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


OLD_POLICIES = ("ignore", "reload")
NEW_POLICIES = (*OLD_POLICIES, "replace")


def _policy_check(policies: Sequence[str]) -> None:
    name = op.f("ck_ingestions_rewritten_file_policy")
    op.drop_constraint(name, "ingestions", type_="check")
    listed = ", ".join(f"'{policy}'" for policy in policies)
    op.create_check_constraint(name, "ingestions", f"rewritten_file_policy IN ({listed})")


def upgrade() -> None:
    _policy_check(NEW_POLICIES)
    op.add_column(
        "files",
        sa.Column("replaces_rows", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("ingestions", sa.Column("schema_hints", sa.Text(), nullable=True))
    op.add_column(
        "ingestions",
        sa.Column("path_columns", JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")),
    )
    op.add_column("ingestions", sa.Column("metadata_columns", JSONB(), nullable=True))
    op.add_column(
        "ingestions",
        sa.Column(
            "write_mode",
            sa.Enum(
                "append",
                "merge",
                name="write_mode",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
            server_default="append",
        ),
    )
    op.add_column(
        "ingestions",
        sa.Column("merge_keys", JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")),
    )
    op.add_column("ingestions", sa.Column("delete_when", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("ingestions", "delete_when")
    op.drop_column("ingestions", "merge_keys")
    op.drop_column("ingestions", "write_mode")
    op.drop_column("files", "replaces_rows")
    op.execute(
        "UPDATE ingestions SET rewritten_file_policy = 'reload' "
        "WHERE rewritten_file_policy = 'replace'"
    )
    _policy_check(OLD_POLICIES)
    op.drop_column("ingestions", "metadata_columns")
    op.drop_column("ingestions", "path_columns")
    op.drop_column("ingestions", "schema_hints")
