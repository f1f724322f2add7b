import logging

import pytest

from autoloader_spark.load import (
    WRITE_PARTITION_BYTES,
    CommittedBatch,
    FileToLoad,
    write_partitions,
)


def test_committed_rows_are_matched_to_files_whatever_the_path_form(
    caplog: pytest.LogCaptureFixture,
) -> None:
    committed = CommittedBatch(
        7,
        14,
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


def test_without_lineage_columns_no_file_gets_a_row_count() -> None:
    committed = CommittedBatch(7, 14, None)

    assert committed.rows_per_file({"s3a://l/a.json": 1, "s3a://l/b.json": 2}) == {
        1: None,
        2: None,
    }


def files_of(*sizes: int | None) -> list[FileToLoad]:
    return [FileToLoad(n, f"s3a://landing/in/{n}.json", size=size) for n, size in enumerate(sizes)]


def test_many_small_files_are_written_by_one_task_per_core() -> None:
    assert write_partitions(files_of(*[1024] * 10_000), parallelism=2) == 2
    assert write_partitions(files_of(*[1024] * 10_000), parallelism=16) == 16


def test_a_batch_is_written_by_one_task_per_128_mb_of_input_when_that_is_more() -> None:
    quarters = [WRITE_PARTITION_BYTES // 4] * 41  # 10.25 tasks' worth, rounded up
    assert write_partitions(files_of(*quarters), parallelism=2) == 11


def test_a_few_large_files_keep_sparks_split() -> None:
    assert write_partitions(files_of(*[4 * WRITE_PARTITION_BYTES] * 3), parallelism=2) is None
    assert write_partitions(files_of(1024, 1024), parallelism=2) is None


def test_a_file_of_unknown_size_keeps_sparks_split() -> None:
    assert write_partitions(files_of(*[1024] * 99, None), parallelism=2) is None
