from autoloader_metadata.ledger import like_escape


def test_like_escape_matches_only_the_text_itself() -> None:
    assert like_escape("s3://b/dt_2026/100%") == "s3://b/dt\\_2026/100\\%"
