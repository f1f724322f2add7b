"""Ingestions as the API answers them (the IngestionOut schema), built as JSON by PostgreSQL.

A page of ingestions is one query whose text goes to the client unchanged: decoding the JSONB
columns, nesting them and encoding the result in Python, or building the query as SQLAlchemy
expressions per request, cost more than running it. The layout follows mapping.spec_of, which
the PATCH path reads; an integration test compares the two.
"""

from __future__ import annotations

import uuid
from functools import lru_cache
from typing import Any

from autoloader_metadata.errors import NotFound
from sqlalchemy import TextClause, text
from sqlalchemy.orm import Session

from autoloader_api.mapping import CORRUPT_OPTION

_UTC = """to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""

# The JSON text of ingestion row `i`; {file_counts} is an expression (or null).
_DOCUMENT = f"""
json_build_object(
  'id', i.id, 'name', i.name, 'status', i.status,
  'source', json_build_object(
    'uri', i.source_uri, 'glob', i.source_glob, 'credential_ref', i.credential_ref,
    'min_file_age_seconds', i.min_file_age_seconds,
    'max_file_age_seconds', i.max_file_age_seconds,
    'start_date', {_UTC.format("i.start_date")},
    'rewritten_files', i.rewritten_file_policy, 'listing_mode', i.listing_mode,
    'full_listing_every', i.full_listing_every),
  'format', json_build_object(
    'type', i.format, 'options', i.format_options - '{CORRUPT_OPTION}',
    'schema_ddl', i.schema_ddl, 'schema_evolution', i.schema_evolution,
    'corrupt_records', coalesce(i.format_options ->> '{CORRUPT_OPTION}', 'keep')),
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
  'file_counts', {{file_counts}}
)::text"""

_FILE_COUNTS = """coalesce(
  (SELECT json_object_agg(status, n)
   FROM (SELECT status, count(*) AS n FROM files WHERE ingestion_id = i.id GROUP BY status) s),
  '{}'::json)"""

_ONE = text(
    f"SELECT {_DOCUMENT.format(file_counts=_FILE_COUNTS)} FROM ingestions i"
    " WHERE i.id = :id AND i.tenant_id = :tenant AND i.status <> 'deleted'"
)


@lru_cache(maxsize=4)
def page_query(by_status: bool, by_name: bool) -> TextClause:
    """A page of a tenant's live ingestions by name (an index scan on the unique live-name
    index), JSON built for the page's rows only, and the count of all that match.
    Parameters: tenant, limit, offset, and status or name (a LIKE pattern) when filtered."""
    where = "tenant_id = :tenant AND status <> 'deleted'"
    if by_status:
        where += " AND status = :status"
    if by_name:
        where += " AND name ILIKE :name ESCAPE '\\'"
    return text(
        f"""
        SELECT {_DOCUMENT.format(file_counts="null")} AS document,
               (SELECT count(*) FROM ingestions WHERE {where}) AS total
        FROM (SELECT * FROM ingestions WHERE {where}
              ORDER BY name LIMIT :limit OFFSET :offset) i
        ORDER BY i.name
        """
    )


def document_by_id(session: Session, tenant_id: uuid.UUID, ingestion_id: uuid.UUID) -> str:
    """The tenant's ingestion as JSON, with its files counted by status."""
    found: Any = session.scalar(_ONE, {"id": ingestion_id, "tenant": tenant_id})
    if found is None:
        raise NotFound(f"ingestion {ingestion_id} does not exist")
    return str(found)
