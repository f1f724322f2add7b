from pyspark.sql.types import DateType, LongType, StringType, StructField

from autoloader_spark.path_columns import check, column_types, folder_values, inferred_type


def test_values_come_from_folders_only() -> None:
    path = "s3a://b/in/year=2026/month=11/day=/region=eu west/month=12.csv"

    assert folder_values(path, ["year", "month", "day", "region", "hour"]) == {
        "year": "2026",
        "month": "11",  # the file's name is no folder
        "day": None,  # an empty value is null, as Hive writes it
        "region": "eu west",
        "hour": None,
    }
    assert folder_values("s3a://b/x=__HIVE_DEFAULT_PARTITION__/f", ["x"]) == {"x": None}


def test_types_are_inferred_from_every_value() -> None:
    assert inferred_type(["2026", "-7"]) == LongType()
    assert inferred_type(["2026-11-30", "2026-02-01"]) == DateType()
    assert inferred_type(["2026-02-30"]) == StringType()  # no such day
    assert inferred_type(["2026", "eu"]) == StringType()
    assert inferred_type([]) == StringType()


def test_the_table_then_the_hint_then_the_values_decide_the_type() -> None:
    paths = ["s3a://b/year=2026/a.csv", "s3a://b/year=2025/b.csv"]

    typed = column_types(["year"], paths, {}, {})
    hinted = column_types(["year"], paths, {}, {"year": StringType()})
    tabled = column_types(["year"], paths, {"year": DateType()}, {"year": StringType()})

    assert typed == [StructField("year", LongType(), True)]
    assert hinted[0].dataType == StringType()
    assert tabled[0].dataType == DateType()


def test_a_value_that_misfits_fails_and_a_missing_one_warns() -> None:
    columns = [StructField("year", LongType(), True), StructField("month", LongType(), True)]

    failure, _ = check("s3a://b/year=latest/month=1/a.csv", columns)
    ok, lacking = check("s3a://b/year=2026/a.csv", columns)

    assert failure is not None and failure.category.value == "schema_mismatch"
    assert "year=latest is not an integer" in failure.reason
    assert ok is None and lacking == ["month"]
