import json
import uuid

from autoloader_metadata.enums import IngestionStatus
from autoloader_model.store import page_statement, with_file_counts


def test_a_page_is_scoped_to_the_tenant_and_its_live_ingestions_with_filters_numbered_after() -> (
    None
):
    tenant = uuid.uuid4()
    page = page_statement(tenant, 50, 100, IngestionStatus.PAUSED, "%ord\\_%")

    assert page.arguments == (tenant, 50, 100, "paused", "%ord\\_%")
    assert "tenant_id = $1 AND status <> 'deleted' AND status = $4" in page.sql
    assert "name ILIKE $5 ESCAPE '\\'" in page.sql
    assert page.sql.endswith("ORDER BY name LIMIT $2 OFFSET $3")
    assert "$4" not in page_statement(tenant, 1, 0).sql


def test_a_stored_document_gets_its_file_counts_in_its_last_field() -> None:
    stored = json.dumps({"id": "x", "name": "orders", "file_counts": None}, separators=(",", ":"))

    filled = with_file_counts(stored, '{"loaded": 3}')

    assert filled is not None and json.loads(filled)["file_counts"] == {"loaded": 3}
    assert with_file_counts('{"file_counts":null,"other":1}', "{}") is None
