import pytest

from autoloader_spark.conditions import Equals, parse_condition


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("deleted = true", Equals("deleted", True)),
        ("  IS_DELETED=FALSE ", Equals("IS_DELETED", False)),
        ("op = 'D'", Equals("op", "D")),
        (r"note = 'it\'s gone'", Equals("note", "it's gone")),
        ("`status code` = -9", Equals("status code", -9)),
        ("`a``b` = 1", Equals("a`b", 1)),
    ],
)
def test_a_column_equal_to_a_literal_parses(text: str, expected: Equals) -> None:
    assert parse_condition(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "deleted",
        "deleted = true OR 1 = 1",
        "deleted = true; DROP TABLE x",
        "a = b",
        "a = 1.5",
        "x = 'unclosed",
        "`` = 1",
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="write <column> = <value>"):
        parse_condition(text)
