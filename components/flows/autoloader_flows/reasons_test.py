from autoloader_flows.reasons import reason_of


def test_the_reason_is_the_condition_before_the_colon() -> None:
    assert reason_of("PATH_NOT_FOUND: java.io.FileNotFoundException: s3a://b/x.csv") == (
        "PATH_NOT_FOUND"
    )
    assert reason_of("FAILED_READ_FILE.NO_HINT: boom") == "FAILED_READ_FILE.NO_HINT"


def test_free_text_is_not_a_label_value() -> None:
    assert reason_of("the file could not be read: boom") == "unknown"
    assert reason_of(None) == "unknown"
    assert reason_of("") == "unknown"
