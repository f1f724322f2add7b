import pytest
from autoloader_model.ddl import Column, DDLError, parse_ddl


def test_columns_and_types_are_read() -> None:
    columns = parse_ddl(
        "id BIGINT NOT NULL, `amount` decimal(10, 2) COMMENT 'in €', tags ARRAY<STRING>, "
        "attrs MAP<STRING, INT>, address STRUCT<city: STRING, zip STRING>, day DATE"
    )
    assert columns == [
        Column("id", "bigint"),
        Column("amount", "decimal(10,2)"),
        Column("tags", "array<string>"),
        Column("attrs", "map<string,int>"),
        Column("address", "struct<city:string,zip:string>"),
        Column("day", "date"),
    ]


@pytest.mark.parametrize(
    ("ddl", "message"),
    [
        ("", "no columns"),
        ("id BIGINT,", "ends early"),
        ("id BIGNUM", "column 'id': unknown type 'bignum'"),
        ("id INT, id STRING", "duplicate column(s): id"),
        ("`a b` INT", "column 'a b'"),
        ("x DECIMAL(40, 2)", "1 <= p <= 38"),
        ("x VARCHAR", "needs a length"),
        ("x ARRAY<INT", "ends early"),
        ("x INT; DROP TABLE t", "unexpected character ';'"),
        ("x INT) y", "expected ',', found ')'"),
    ],
)
def test_bad_schemas_name_the_column_and_the_fault(ddl: str, message: str) -> None:
    with pytest.raises(DDLError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_ddl(ddl)
