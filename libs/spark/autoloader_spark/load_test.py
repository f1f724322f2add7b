import logging

import pytest

from autoloader_spark.load import CommittedBatch, spark_file_uri


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
        (
            "abfss://raw@acct.dfs.core.windows.net/x/a=1,b;c.csv",
            "abfss://raw@acct.dfs.core.windows.net/x/a=1,b;c.csv",
        ),
    ],
)
def test_file_uris_are_written_as_hadoop_writes_them(path: str, as_spark_reports: str) -> None:
    assert spark_file_uri(path) == as_spark_reports


def test_committed_rows_are_matched_to_files_whatever_the_path_form(
    caplog: pytest.LogCaptureFixture,
) -> None:
    committed = CommittedBatch(
        7,
        {
            "s3a://landing/in/with%20space.csv": 3,
            "file:/tmp/in/a.csv": 2,
            "s3a://landing/in/stranger.csv": 9,
        },
    )
    files = {
        "s3a://landing/in/with space.csv": 1,
        "file:///tmp/in/a.csv": 2,
        "s3a://landing/in/empty.csv": 3,
    }

    with caplog.at_level(logging.WARNING):
        rows = committed.rows_per_file(files)

    assert rows == {1: 3, 2: 2, 3: 0}
    assert "s3a://landing/in/stranger.csv" in caplog.text
