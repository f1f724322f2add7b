from autoloader_metadata.ledger import like_escape


def test_like_escape_matches_only_the_text_itself() -> None:
    assert like_escape("s3://b/dt_2026/100%") == "s3://b/dt\\_2026/100\\%"


def test_a_split_batch_sums_its_parts_and_says_each_warning_once() -> None:
    import uuid

    from autoloader_ingest.batches import BatchResult

    def part(rows: int, snapshot: int | None, *warnings: str) -> BatchResult:
        return BatchResult(uuid.uuid4(), 1, 0, rows, snapshot, warnings=warnings)

    whole = BatchResult.combined(
        uuid.uuid4(), [part(2, 7, "hint 'x' unmatched"), part(3, None, "hint 'x' unmatched", "y")]
    )

    assert (whole.rows, whole.loaded_files, whole.snapshot_id, whole.parts) == (5, 2, 7, 2)
    assert whole.warnings == ("hint 'x' unmatched", "y")
