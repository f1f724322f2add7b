from autoloader_flows.reasons import reason_of


def test_the_reason_is_the_category() -> None:
    assert reason_of("malformed", "FAILED_READ_FILE.NO_HINT: EOFException") == "malformed"
    assert reason_of("schema_mismatch") == "schema_mismatch"


def test_an_uncategorised_failure_gives_the_condition_before_the_colon() -> None:
    assert reason_of(None, "PATH_NOT_FOUND: java.io.FileNotFoundException: s3a://b/x.csv") == (
        "PATH_NOT_FOUND"
    )
    assert reason_of("not-a-category", "FAILED_READ_FILE.NO_HINT: boom") == (
        "FAILED_READ_FILE.NO_HINT"
    )


def test_free_text_is_not_a_label_value() -> None:
    assert reason_of(None, "the file could not be read: boom") == "unknown"
    assert reason_of(None, None) == "unknown"
    assert reason_of(None, "") == "unknown"
