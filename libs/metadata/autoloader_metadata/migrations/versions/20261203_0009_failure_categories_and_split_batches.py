"""files carry the category of their last failure; a batch can be split into parts

A file's failure is classified (malformed, schema_mismatch, unsupported, permission, not_found,
too_large, transient): `files.error_category` keeps the category beside `last_error`, for the
API, the run summary and the metrics. A batch that fails without naming one file is split into
parts that are loaded on their own, each with its own id and Iceberg snapshot: the parts point
at the batch they came from (`batches.parent_id`), which ends `split`.

Ingestions gain two choices: `max_file_bytes` (a larger file fails as too_large before Spark
reads it) and `column_names` (keep the files' names, or make top-level names snake_case).

Revision ID: 20261203_0009
Revises: 20261202_0008
Create Date: 2026-12-03 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261203_0009"
down_revision: str | None = "20261202_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = ("claimed", "loaded", "failed", "abandoned")
NEW_STATUSES = (*OLD_STATUSES, "split")


def _status_check(statuses: Sequence[str]) -> None:
    name = op.f("ck_batches_batch_status")  # as the naming convention named it, taken as is
    op.drop_constraint(name, "batches", type_="check")
    listed = ", ".join(f"'{status}'" for status in statuses)
    op.create_check_constraint(name, "batches", f"status IN ({listed})")


def upgrade() -> None:
    op.add_column("files", sa.Column("error_category", sa.String(32), nullable=True))
    op.add_column("batches", sa.Column("parent_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_batches_parent_id_batches"),
        "batches",
        "batches",
        ["parent_id"],
        ["id"],
        ondelete="SET NULL",
    )
    _status_check(NEW_STATUSES)
    op.add_column("ingestions", sa.Column("max_file_bytes", sa.BigInteger(), nullable=True))
    op.add_column(
        "ingestions",
        sa.Column(
            "column_names",
            sa.Enum(
                "keep",
                "snake_case",
                name="column_names",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
            server_default="keep",
        ),
    )


def downgrade() -> None:
    op.drop_column("ingestions", "column_names")
    op.drop_column("ingestions", "max_file_bytes")
    op.execute("UPDATE batches SET status = 'failed' WHERE status = 'split'")
    _status_check(OLD_STATUSES)
    op.drop_constraint(op.f("fk_batches_parent_id_batches"), "batches", type_="foreignkey")
    op.drop_column("batches", "parent_id")
    op.drop_column("files", "error_category")
