import pytest
from pyspark.sql.types import (
    DecimalType,
    DoubleType,
    FloatType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from autoloader_spark.evolution import compare, evolved, hinted, holds, unmatched_hints, widens


def schema(**types: object) -> StructType:
    return StructType([StructField(name, t, True) for name, t in types.items()])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("table", "files", "expected"),
    [
        (IntegerType(), LongType(), True),
        (FloatType(), DoubleType(), True),
        (DecimalType(10, 2), DecimalType(12, 2), True),
        (DecimalType(10, 2), DecimalType(12, 3), False),  # the scale may not change
        (LongType(), IntegerType(), False),  # narrower: read into the table's type instead
        (IntegerType(), DoubleType(), False),
        (LongType(), DoubleType(), False),
    ],
)
def test_only_iceberg_promotions_widen(table: object, files: object, expected: bool) -> None:
    assert widens(table, files) is expected  # type: ignore[arg-type]


def test_narrower_files_read_into_the_table() -> None:
    assert holds(LongType(), IntegerType())
    assert holds(DoubleType(), FloatType())
    assert holds(DecimalType(12, 2), DecimalType(10, 2))
    assert not holds(IntegerType(), LongType())
    assert not holds(LongType(), StringType())


def test_compare_finds_widening_nested_fields_and_conflicts() -> None:
    table = schema(id=IntegerType(), point=schema(x=DoubleType()), label=StringType(), n=LongType())
    files = schema(
        ID=LongType(),
        point=schema(x=DoubleType(), y=DoubleType()),
        label=StringType(),
        n=DoubleType(),
    )

    found = compare(table, files)

    assert found.widened == {("id",): (IntegerType(), LongType())}
    assert found.nested_names == ["point.y"]
    assert found.conflicts == {"n": ("bigint", "double")}
    after = evolved(table, found)
    assert after["id"].dataType == LongType()
    assert after["point"].dataType == schema(x=DoubleType(), y=DoubleType())


def test_a_dotted_name_is_one_column_not_a_path() -> None:
    table = schema(**{"a.b": IntegerType()})
    found = compare(table, schema(**{"a.b": LongType()}))

    assert found.widened == {("a.b",): (IntegerType(), LongType())}
    assert evolved(table, found)["a.b"].dataType == LongType()


def test_hints_type_only_the_columns_they_name() -> None:
    hints = schema(AMOUNT=DecimalType(12, 2), ghost=IntegerType())

    typed = hinted(schema(amount=DoubleType(), note=StringType()), hints)

    assert typed["amount"].dataType == DecimalType(12, 2)
    assert typed["note"].dataType == StringType()
    assert unmatched_hints(hints, ["amount", "note"]) == ["ghost"]
