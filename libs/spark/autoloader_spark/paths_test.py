import pytest

from autoloader_spark.paths import literal, spark_file_uri


@pytest.mark.parametrize(
    ("path", "as_spark_reports"),
    [
        ("s3a://landing/in/plain.csv", "s3a://landing/in/plain.csv"),
        ("s3a://landing/in/with space.csv", "s3a://landing/in/with%20space.csv"),
        ("s3a://landing/in/100%.csv", "s3a://landing/in/100%25.csv"),
        ("s3a://landing/in/a#b?c.csv", "s3a://landing/in/a%23b%3Fc.csv"),
        ("s3a://landing/in/ümlaut (1)!'.csv", "s3a://landing/in/ümlaut%20(1)!'.csv"),
        ("s3a://landing/in/n\u00a0b.csv", "s3a://landing/in/n%C2%A0b.csv"),
        ("file:///tmp/in/a b.csv", "file:/tmp/in/a%20b.csv"),
        ("s3a://landing/in/x[1]{2}.csv", "s3a://landing/in/x%5B1%5D%7B2%7D.csv"),
        (
            "s3a://landing/in/a-b_c.d~e!*'():@&=+$,;.csv",
            "s3a://landing/in/a-b_c.d~e!*'():@&=+$,;.csv",
        ),
        (
            "abfss://raw@acct.dfs.core.windows.net/x/a=1,b;c.csv",
            "abfss://raw@acct.dfs.core.windows.net/x/a=1,b;c.csv",
        ),
    ],
)
def test_file_uris_are_written_as_hadoop_writes_them(path: str, as_spark_reports: str) -> None:
    assert spark_file_uri(path) == as_spark_reports


@pytest.mark.parametrize(
    ("name", "escaped"),
    [
        ("s3a://landing/in/at 10:00.csv", "s3a://landing/in/at 10:00.csv"),
        ("s3a://landing/in/x[1].csv", "s3a://landing/in/x\\[1\\].csv"),
        ("s3a://landing/in/a?c*.csv", "s3a://landing/in/a\\?c\\*.csv"),
        ("s3a://landing/in/s{1}\\.csv", "s3a://landing/in/s\\{1\\}\\\\.csv"),
    ],
)
def test_glob_characters_are_escaped_so_spark_reads_the_named_file(name: str, escaped: str) -> None:
    assert literal(name) == escaped
