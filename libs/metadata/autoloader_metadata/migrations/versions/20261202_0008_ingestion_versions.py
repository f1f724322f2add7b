"""ingestions carry a version; their documents are rendered in Python

Every change of an ingestion bumps `version` under a compare-and-set, which the API answers as
the ETag and takes back in If-Match. `deployed_version` is the version Prefect's deployment was
last written from: behind `version`, the deployment is pending (reconciliation writes it).

The document each row keeps for the API's pages was built by a trigger from a PL/pgSQL copy
of the API's schema (revision 0007), so an API change needed a migration. It is now rendered
from the one domain model (autoloader_model) by the store on every write; `migrate db upgrade`
renders every stored document again after this revision. A row changed by plain SQL (an
operator, a tool) leaves its stored document as it was: a trigger then clears it, and a page
renders a cleared document from the row as it reads it.

Revision ID: 20261202_0008
Revises: 20261129_0007
Create Date: 2026-12-02 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261202_0008"
down_revision: str | None = "20261129_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# An UPDATE that changes a row but leaves its document as it was did not render it: clear it.
FORGET_FUNCTION = """
CREATE OR REPLACE FUNCTION ingestions_forget_stale_document() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.document IS NOT DISTINCT FROM OLD.document AND NEW IS DISTINCT FROM OLD THEN
    NEW.document := NULL;
  END IF;
  RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.add_column(
        "ingestions", sa.Column("version", sa.Integer(), server_default="1", nullable=False)
    )
    op.add_column("ingestions", sa.Column("deployed_version", sa.Integer(), nullable=True))
    # A deployment written before versions existed is taken as written from version 1;
    # reconciliation compares it field by field with the row anyway.
    op.execute("UPDATE ingestions SET deployed_version = 1 WHERE prefect_deployment_id IS NOT NULL")
    op.execute("DROP TRIGGER ingestions_keep_document ON ingestions")
    op.execute("DROP FUNCTION ingestions_keep_document()")
    op.execute("DROP FUNCTION ingestion_document(ingestions, json)")
    op.execute(FORGET_FUNCTION)
    op.execute(
        "CREATE TRIGGER ingestions_forget_stale_document BEFORE UPDATE ON ingestions"
        " FOR EACH ROW EXECUTE FUNCTION ingestions_forget_stale_document()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER ingestions_forget_stale_document ON ingestions")
    op.execute("DROP FUNCTION ingestions_forget_stale_document()")
    import importlib.util
    from pathlib import Path

    path = Path(__file__).with_name("20261129_0007_ingestion_documents.py")
    found = importlib.util.spec_from_file_location("revision_0007", path)
    assert found is not None and found.loader is not None
    previous = importlib.util.module_from_spec(found)
    found.loader.exec_module(previous)
    op.execute(previous.DOCUMENT_FUNCTION)
    op.execute(previous.TRIGGER_FUNCTION)
    op.execute(
        "CREATE TRIGGER ingestions_keep_document BEFORE INSERT OR UPDATE ON ingestions"
        " FOR EACH ROW EXECUTE FUNCTION ingestions_keep_document()"
    )
    op.execute("UPDATE ingestions SET document = ingestion_document(ingestions)")
    op.drop_column("ingestions", "deployed_version")
    op.drop_column("ingestions", "version")
