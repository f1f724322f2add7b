"""ingestions keep their API document

The API answers an ingestion as JSON that PostgreSQL builds (components/api documents.py).
Building it for every row of every page cost the list endpoint most of its time, so each row now
keeps its document, written by a trigger whenever the row is inserted or changed, whoever
changes it. `ingestion_document(row, file_counts)` is the one definition of the layout; a single
ingestion read builds it afresh with its files counted. The layout is the API's IngestionOut: a
change to that schema needs a migration that replaces the function and rewrites the documents.

Revision ID: 20261129_0007
Revises: 20261128_0006
Create Date: 2026-11-29 00:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261129_0007"
down_revision: str | None = "20261128_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UTC = """to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""
_CORRUPT_OPTION = "corruptRecords"  # where format_options keep the corrupt-records rule

DOCUMENT_FUNCTION = f"""
CREATE OR REPLACE FUNCTION ingestion_document(i ingestions, file_counts json DEFAULT NULL)
RETURNS text LANGUAGE sql STABLE AS $$
SELECT json_build_object(
  'id', i.id, 'name', i.name, 'status', i.status,
  'source', json_build_object(
    'uri', i.source_uri, 'glob', i.source_glob, 'credential_ref', i.credential_ref,
    'min_file_age_seconds', i.min_file_age_seconds,
    'max_file_age_seconds', i.max_file_age_seconds,
    'start_date', {_UTC.format("i.start_date")},
    'rewritten_files', i.rewritten_file_policy, 'listing_mode', i.listing_mode,
    'full_listing_every', i.full_listing_every),
  'format', json_build_object(
    'type', i.format, 'options', i.format_options - '{_CORRUPT_OPTION}',
    'schema_ddl', i.schema_ddl, 'schema_evolution', i.schema_evolution,
    'corrupt_records', coalesce(i.format_options ->> '{_CORRUPT_OPTION}', 'keep')),
  'destination', json_build_object(
    'catalog', i.destination_catalog, 'namespace', i.destination_namespace,
    'table', i.destination_table, 'partitioning', i.partitioning,
    'properties', i.table_properties),
  'schedule', json_build_object('cron', i.schedule_cron, 'timezone', i.schedule_timezone),
  'batch', json_build_object(
    'max_files', i.max_files_per_batch, 'max_bytes', i.max_bytes_per_batch),
  'work_queue', i.work_queue_override, 'cluster', i.cluster,
  'deployment_id', i.prefect_deployment_id,
  'created_at', {_UTC.format("i.created_at")}, 'updated_at', {_UTC.format("i.updated_at")},
  'created_by', i.created_by, 'updated_by', i.updated_by,
  'file_counts', file_counts
)::text
$$
"""

TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION ingestions_keep_document() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.document := ingestion_document(NEW);
  RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.add_column("ingestions", sa.Column("document", sa.Text(), nullable=True))
    op.execute(DOCUMENT_FUNCTION)
    op.execute(TRIGGER_FUNCTION)
    op.execute(
        "CREATE TRIGGER ingestions_keep_document BEFORE INSERT OR UPDATE ON ingestions"
        " FOR EACH ROW EXECUTE FUNCTION ingestions_keep_document()"
    )
    op.execute("UPDATE ingestions SET document = ingestion_document(ingestions)")


def downgrade() -> None:
    op.execute("DROP TRIGGER ingestions_keep_document ON ingestions")
    op.execute("DROP FUNCTION ingestions_keep_document()")
    op.execute("DROP FUNCTION ingestion_document(ingestions, json)")
    op.drop_column("ingestions", "document")
