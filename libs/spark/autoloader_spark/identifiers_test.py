import pytest

from autoloader_spark.errors import InvalidIdentifier
from autoloader_spark.identifiers import TableRef, partition_sql, quote, sql_string


def test_string_literals_escape_quotes_and_backslashes() -> None:
    assert sql_string("it's a \\ path") == "'it\\'s a \\\\ path'"


def test_identifiers_are_quoted_and_injection_is_refused() -> None:
    assert TableRef("lake", "sales.eu", "orders").sql == "`lake`.`sales`.`eu`.`orders`"
    with pytest.raises(InvalidIdentifier, match="is not a valid identifier"):
        quote("orders`; DROP TABLE x; --")


@pytest.mark.parametrize(
    ("spec", "sql"),
    [
        ("region", "`region`"),
        ("days(event_time)", "days(`event_time`)"),
        ("bucket(16, id)", "bucket(16, `id`)"),
        ("truncate( 4 ,name )", "truncate(4, `name`)"),
    ],
)
def test_partition_specs_become_quoted_sql(spec: str, sql: str) -> None:
    assert partition_sql(spec) == sql


@pytest.mark.parametrize(
    "spec", ["days(a) --", "bucket(id)", "bucket(0, id)", "weeks(ts)", "days(a, b)", "x`y"]
)
def test_bad_partition_specs_are_refused(spec: str) -> None:
    with pytest.raises(InvalidIdentifier):
        partition_sql(spec)
