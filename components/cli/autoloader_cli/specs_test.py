from pathlib import Path

import pytest
from autoloader_cli.specs import APPLY_SET_LABEL, SpecError, as_document, read_specs

ORDERS = """\
apiVersion: autoloader/v1
kind: Ingestion
metadata:
  name: orders
  labels: {team: sales}
spec:
  source:
    uri: s3://landing/orders/
  format: {type: csv}
  destination: {catalog: lake, namespace: sales, table: orders}
  schedule:
    cron: "61 * * * *"
---
apiVersion: autoloader/v1
kind: Ingestion
metadata: {name: events}
spec: {source: {uri: "s3://landing/events/"}, format: {type: json}}
"""


def test_documents_keep_their_file_index_and_the_line_of_each_field(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.yaml").write_text(ORDERS)
    (tmp_path / "notes.txt").write_text("not a spec")
    orders, events = read_specs(tmp_path)
    assert (orders.name, orders.index, events.name, events.index) == ("orders", 1, "events", 2)
    assert orders.line_of(["body", "schedule", "cron"]) == 12
    assert orders.line_of(["body", "source", "uri"]) == 8
    assert orders.line_of(["body", "name"]) == 4
    assert orders.line_of(["body", "destination", "keys"]) == 10  # absent: its parent's line
    assert orders.body("specs")["labels"] == {"team": "sales", APPLY_SET_LABEL: "specs"}
    assert orders.body()["name"] == "orders" and "labels" not in orders.spec


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("apiVersion: v2\nkind: Ingestion\nmetadata: {name: a}\nspec: {}\n", "apiVersion"),
        ("apiVersion: autoloader/v1\nkind: Ingestion\nspec: {}\n", "metadata.name"),
        ("apiVersion: autoloader/v1\nkind: Ingestion\nmetadata: {name: a}\n", "spec"),
        (
            "apiVersion: autoloader/v1\nkind: Ingestion\nmetadata: {name: a}\nspec: {name: b}\n",
            "belong in metadata",
        ),
        ("apiVersion: autoloader/v1\nkind: [\n", "not valid YAML"),
        ("- a\n- b\n", "a mapping"),
    ],
)
def test_what_is_not_an_ingestion_spec_is_refused_with_where(
    tmp_path: Path, text: str, words: str
) -> None:
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(SpecError, match=words) as caught:
        read_specs(tmp_path / "bad.yaml")
    assert str(tmp_path / "bad.yaml") in caught.value.where


def test_a_name_twice_in_one_set_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(ORDERS)
    (tmp_path / "b.yaml").write_text(ORDERS.split("---")[1])
    with pytest.raises(SpecError, match="'events' is also"):
        read_specs(tmp_path)


def test_an_exported_ingestion_is_a_spec_document() -> None:
    answer = {
        "id": "x",
        "name": "orders",
        "status": "paused",
        "labels": {"team": "sales"},
        **{k: {} for k in ("source", "format", "destination", "schedule", "batch")},
        "work_queue": None,
        "cluster": "default",
    }
    document = as_document(answer)
    assert document["metadata"] == {"name": "orders", "labels": {"team": "sales"}}
    assert document["spec"]["paused"] is True and "id" not in document["spec"]


def test_a_path_without_documents_is_refused(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("no specs here")
    with pytest.raises(SpecError, match="no spec documents"):
        read_specs(tmp_path)
