import pytest

from autoloader_spark.errors import InvalidIdentifier
from autoloader_spark.identifiers import TableRef, quote, sql_string


def test_string_literals_escape_quotes_and_backslashes() -> None:
    assert sql_string("it's a \\ path") == "'it\\'s a \\\\ path'"


def test_identifiers_are_quoted_and_injection_is_refused() -> None:
    assert TableRef("lake", "sales.eu", "orders").sql == "`lake`.`sales`.`eu`.`orders`"
    with pytest.raises(InvalidIdentifier, match="is not a valid identifier"):
        quote("orders`; DROP TABLE x; --")
