from typing import Any

import pytest
from autoloader_metadata.enums import IngestionStatus
from autoloader_metadata.models import Ingestion
from autoloader_model.ingestion import spec_columns, spec_document
from autoloader_model.spec import IngestionSpec, merged
from pydantic import ValidationError


def body(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "name": "orders",
        "source": {"uri": "s3://landing/orders/", "credential_ref": "env:LANDING", "glob": "*.csv"},
        "format": {"type": "csv", "options": {"sep": ";", "header": True}},
        "destination": {"catalog": "lake", "namespace": "sales.eu", "table": "orders"},
        "schedule": {"cron": "*/15 * * * *", "timezone": "Europe/Paris"},
    }
    return merged(document, changes)


def error_of(document: dict[str, Any]) -> tuple[tuple[str | int, ...], str]:
    with pytest.raises(ValidationError) as caught:
        IngestionSpec.model_validate(document)
    first = caught.value.errors()[0]
    return tuple(first["loc"]), str(first["msg"])


@pytest.mark.parametrize(
    ("changes", "loc", "words"),
    [
        ({"schedule": {"cron": "61 * * * *"}}, ("schedule", "cron"), "cron"),
        ({"schedule": {"timezone": "Mars/Olympus"}}, ("schedule", "timezone"), "timezone"),
        ({"source": {"uri": "ftp://host/x"}}, ("source", "uri"), "unsupported scheme"),
        ({"source": {"credential_ref": "AKIA123SECRET"}}, ("source", "credential_ref"), "env:NAME"),
        ({"format": {"options": {"bogus": "1"}}}, ("format",), "csv does not take bogus"),
        ({"format": {"schema_ddl": "id BIGNUM"}}, ("format", "schema_ddl"), "unknown type"),
        ({"destination": {"table": "orders; DROP"}}, ("destination", "table"), "not a valid"),
        ({"destination": {"namespace": "a..b"}}, ("destination", "namespace"), "not a valid"),
        (
            {"destination": {"partitioning": ["weeks(ts)"]}},
            ("destination", "partitioning"),
            "unknown partition transform",
        ),
        ({"schedule": {"cron": "* * * * * *"}}, ("schedule", "cron"), "five fields"),
        ({"schedule": {"cron": "*/1 * * * * *"}}, ("schedule", "cron"), "not 6"),
        (
            {"destination": {"properties": {"write.data.path": "s3a://landing/other/x"}}},
            ("destination", "properties"),
            "places the table's files",
        ),
        (
            {"destination": {"properties": {"write.metadata.path": "s3a://x"}}},
            ("destination", "properties"),
            "places the table's files",
        ),
        (
            {"destination": {"properties": {"write.object-storage.enabled": "true"}}},
            ("destination", "properties"),
            "places the table's files",
        ),
        (
            {"destination": {"properties": {"location": "/x"}}},
            ("destination", "properties"),
            "places",
        ),
        (
            {"destination": {"properties": {"format-version": "1"}}},
            ("destination", "properties"),
            "sets its format",
        ),
        (
            {"destination": {"properties": {"owner": "someone"}}},
            ("destination", "properties"),
            "not one of the write, commit, read and retention properties",
        ),
        ({"batch": {"max_files": 0}}, ("batch", "max_files"), "greater than or equal to 1"),
        ({"format": {"schema_hints": "amount DECIMAL(40,2)"}}, ("format", "schema_hints"), "<= 38"),
        (
            {"format": {"schema_hints": "a INT", "schema_ddl": "a INT, b STRING"}},
            ("format",),
            "not both",
        ),
        ({"source": {"path_columns": ["year", "Year"]}}, ("source", "path_columns"), "year is"),
        ({"source": {"path_columns": ["a-b"]}}, ("source", "path_columns"), "not a valid"),
        (
            {
                "source": {"rewritten_files": "replace"},
                "destination": {"metadata_columns": {"batch_id": None}},
            },
            (),
            "replace finds a file's earlier rows",
        ),
        (
            {"destination": {"write_mode": "merge"}},
            ("destination",),
            "name them",
        ),
        (
            {"destination": {"keys": ["id"]}},
            ("destination",),
            "apply to write_mode merge only",
        ),
        (
            {"destination": {"write_mode": "merge", "keys": ["id"], "delete_when": "1=1"}},
            ("destination", "delete_when"),
            "write <column> = <value>",
        ),
        (
            {
                "destination": {
                    "write_mode": "merge",
                    "keys": ["id"],
                    "metadata_columns": {"source_modified_at": None},
                }
            },
            ("destination",),
            "keep all three",
        ),
        (
            {
                "source": {"rewritten_files": "replace"},
                "destination": {"write_mode": "merge", "keys": ["id"]},
            },
            (),
            "use reload with write_mode merge",
        ),
        (
            {"source": {"path_columns": ["_batch_id"]}},
            (),
            "also a lineage column",
        ),
        (
            {"destination": {"metadata_columns": {"source_file": "x", "batch_id": "X"}}},
            ("destination", "metadata_columns"),
            "two lineage columns are named x",
        ),
        (
            {"destination": {"metadata_columns": {"row": "_row"}}},
            ("destination", "metadata_columns", "row"),
            "Extra inputs",
        ),
        ({"name": "no spaces"}, ("name",), "pattern"),
        ({"surprise": 1}, ("surprise",), "Extra inputs are not permitted"),
    ],
)
def test_a_bad_field_is_named_with_what_is_wrong(
    changes: dict[str, Any], loc: tuple[str, ...], words: str
) -> None:
    found_loc, message = error_of(body(**changes))
    assert found_loc == loc
    assert words in message


def test_loading_options_are_stored_and_read_back() -> None:
    spec = IngestionSpec.model_validate(
        body(
            source={"path_columns": ["year", "month"]},
            format={"schema_hints": "amount DECIMAL(12,2)"},
            destination={"metadata_columns": {"ingested_at": None, "source_size": "_size"}},
        )
    )
    row = Ingestion(**spec_columns(spec), status=IngestionStatus.ACTIVE)
    back = IngestionSpec.model_validate(spec_document(row))

    assert back.source.path_columns == ["year", "month"]
    assert back.format.schema_hints == "amount DECIMAL(12,2)"
    assert back.destination.metadata_columns.names() == [
        "_source_file",
        "_source_modified_at",
        "_batch_id",
        "_size",
    ]


def test_an_ingestion_stored_before_lineage_choices_keeps_the_four_columns() -> None:
    spec = IngestionSpec.model_validate(body())
    row = Ingestion(**{**spec_columns(spec), "metadata_columns": None})

    lineage = IngestionSpec.model_validate(spec_document(row)).destination.metadata_columns
    assert lineage.names() == ["_source_file", "_source_modified_at", "_batch_id", "_ingested_at"]


def test_write_and_maintenance_properties_are_allowed() -> None:
    allowed = {
        "write.parquet.compression-codec": "zstd",
        "write.target-file-size-bytes": "134217728",
        "commit.retry.num-retries": "10",
        "history.expire.max-snapshot-age-ms": "86400000",
        "write.metadata.metrics.column.note": "none",
    }
    spec = IngestionSpec.model_validate(body(destination={"properties": allowed}))
    assert spec.destination.properties == allowed


def test_a_stored_ingestion_reads_back_as_the_spec_it_was_created_from() -> None:
    spec = IngestionSpec.model_validate(body(format={"corrupt_records": "drop"}))
    row = Ingestion(**spec_columns(spec), status=IngestionStatus.ACTIVE)
    assert row.format_options == {"sep": ";", "header": "true", "corruptRecords": "drop"}
    assert IngestionSpec.model_validate(spec_document(row)) == spec.model_copy(
        update={
            "format": spec.format.model_copy(update={"options": {"sep": ";", "header": "true"}})
        }
    )


def test_a_patch_merges_nested_fields_and_replaces_options() -> None:
    current = body()
    patched = merged(current, {"schedule": {"cron": None}, "format": {"options": {"sep": ","}}})
    assert patched["schedule"] == {"cron": None, "timezone": "Europe/Paris"}
    assert patched["format"]["options"] == {"sep": ","}
    assert patched["format"]["type"] == "csv"
    labelled = merged({**current, "labels": {"a": "1", "b": "2"}}, {"labels": {"b": "3"}})
    assert labelled["labels"] == {"b": "3"}


@pytest.mark.parametrize(
    "changes",
    [
        {"source": {"uri": "s3://landing/a\x00b"}},
        {"format": {"options": {"sep": "\x00"}}},
        {"destination": {"properties": {"comment": "a\x00"}}},
    ],
)
def test_a_nul_character_is_refused_by_field(changes: dict[str, Any]) -> None:
    loc, message = error_of(body(**changes))
    assert loc[0] in changes and "pattern" in message


def test_a_stored_spec_is_read_back_without_the_costly_checks_it_passed_when_written() -> None:
    stored = body(schedule={"cron": "61 * * * *"})  # refused today, as a stricter rule would

    with pytest.raises(ValidationError):
        IngestionSpec.model_validate(stored)
    assert IngestionSpec.model_validate(stored, context={"stored": True}).schedule.cron == (
        "61 * * * *"
    )


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ({"after_load": "move"}, "move needs an archive_uri"),
        ({"archive_uri": "s3://landing/archive/"}, "only after_load move"),
        ({"after_load": "move", "archive_uri": "gs://landing/archive/"}, "same kind"),
        ({"after_load": "move", "archive_uri": "s3://landing/orders/done/"}, "find moved files"),
        ({"after_load": "move", "archive_uri": "s3://landing/orders/"}, "find moved files"),
        ({"retain_seconds": -1}, "greater than or equal to 0"),
    ],
)
def test_source_cleanup_is_refused_where_it_cannot_work(source: dict[str, Any], words: str) -> None:
    loc, message = error_of(body(source=source))
    assert loc[0] == "source"
    assert words in message


@pytest.mark.parametrize(
    "archive",
    ["s3://landing/archive/orders/", "s3://archive-bucket/orders/", "s3://landing/orders/_done/"],
)
def test_an_archive_outside_the_source_or_in_a_hidden_folder_of_it_is_accepted(
    archive: str,
) -> None:
    spec = IngestionSpec.model_validate(
        body(source={"after_load": "move", "archive_uri": archive, "retain_seconds": 3600})
    )
    assert spec.source.archive_uri == archive
    stored = spec_document(Ingestion(**spec_columns(spec), status=IngestionStatus.ACTIVE))
    assert IngestionSpec.model_validate(stored).source == spec.source


def test_a_spec_as_stored_is_what_reading_it_back_gives() -> None:
    from autoloader_model.ingestion import as_stored

    spec = IngestionSpec.model_validate(body(paused=True, labels={"team": "sales"}))
    stored = as_stored(spec)
    assert stored.format.options == {"sep": ";", "header": "true"}
    assert (stored.paused, stored.labels) == (True, {"team": "sales"})
    assert as_stored(stored) == stored
