"""Ingestions as the API answers them (the IngestionOut schema): JSON made by PostgreSQL.

The layout is the SQL function `ingestion_document` (migration 0007), and each row keeps its
document up to date through a trigger; a page of ingestions is one query for stored text that
goes to the client unchanged. Building the JSON per request (in Python, or in SQL for every
row of a page) cost more than everything else the list did. The layout follows
mapping.spec_of, which the PATCH path reads; an integration test compares the two.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from autoloader_metadata.errors import NotFound
from autoloader_metadata.reads import ReadPool, read

# One ingestion, afresh, with its files counted by status.
_ONE = """
SELECT ingestion_document(i, coalesce(
  (SELECT json_object_agg(status, n)
   FROM (SELECT status, count(*) AS n FROM files WHERE ingestion_id = i.id GROUP BY status) s),
  '{}'::json))
FROM ingestions i WHERE i.id = $1 AND i.tenant_id = $2 AND i.status <> 'deleted'
"""


@dataclass(frozen=True)
class PageFilter:
    """Which of a tenant's live ingestions a page lists: those of a status, with a name
    matching a LIKE pattern, or all."""

    status: str | None = None
    name_pattern: str | None = None

    def sql(self) -> str:
        """A page by name (the unique live-name index) of stored documents, and the count
        of all that match. Parameters: tenant, limit, offset, then the filters."""
        where, position = "tenant_id = $1 AND status <> 'deleted'", 4
        if self.status is not None:
            where += f" AND status = ${position}"
            position += 1
        if self.name_pattern is not None:
            where += f" AND name ILIKE ${position} ESCAPE '\\'"
        return _page_sql(where)

    def arguments(self) -> list[object]:
        return [v for v in (self.status, self.name_pattern) if v is not None]


@lru_cache(maxsize=4)
def _page_sql(where: str) -> str:
    return f"""
        SELECT document, (SELECT count(*) FROM ingestions WHERE {where}) AS total
        FROM ingestions WHERE {where}
        ORDER BY name LIMIT $2 OFFSET $3
        """


async def document_by_id(pool: ReadPool, tenant_id: uuid.UUID, ingestion_id: uuid.UUID) -> str:
    """The tenant's ingestion as JSON, with its files counted by status."""
    found: Any = await read(pool, lambda p: p.fetchval(_ONE, ingestion_id, tenant_id))
    if found is None:
        raise NotFound(f"ingestion {ingestion_id} does not exist")
    return str(found)


async def page_of_documents(
    pool: ReadPool, tenant_id: uuid.UUID, limit: int, offset: int, where: PageFilter
) -> tuple[list[str], int]:
    """The page's ingestions as JSON, and how many match in all."""
    sql, extra = where.sql(), where.arguments()
    rows = await read(pool, lambda p: p.fetch(sql, tenant_id, limit, offset, *extra))
    count = rows[0]["total"] if rows else 0
    if not rows and offset > 0:  # past the last page: no row brought the count
        first = await read(pool, lambda p: p.fetchrow(sql, tenant_id, 1, 0, *extra))
        count = first["total"] if first else 0
    return [row["document"] for row in rows], count
