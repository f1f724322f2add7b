import logging

import pytest

from autoloader_spark.load import CommittedBatch


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
