import pytest

from autoloader_spark.errors import AmbiguousColumns
from autoloader_spark.names import snake_case, table_names


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("order id", "order_id"),
        ("Order ID", "order_id"),
        ("orderDate", "order_date"),
        ("unit.price", "unit_price"),
        ("net-amount", "net_amount"),
        ("Zürich", "zurich"),
        ("1st", "_1st"),
        ("a:b>c`d", "a_b_c_d"),
        ("  ", "_"),
        ("already_snake", "already_snake"),
    ],
)
def test_snake_case(name: str, expected: str) -> None:
    assert snake_case(name) == expected


def test_names_kept_as_written_unless_equal_but_for_case() -> None:
    assert table_names(["order id", "Zürich"], "keep") == {
        "order id": "order id",
        "Zürich": "Zürich",
    }
    with pytest.raises(AmbiguousColumns, match="'Id' and 'id' differ only by case"):
        table_names(["Id", "id"], "keep")


def test_a_collision_after_normalizing_names_both_columns() -> None:
    with pytest.raises(AmbiguousColumns, match="'order id' and 'Order_ID' both become 'order_id'"):
        table_names(["order id", "Order_ID"], "snake_case")
