import pytest

from autoloader_storage.globs import glob_to_regex, literal_prefix


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("**/*.json", ["a.json", "x/y/a.json"], ["a.jsonl", "x/a.csv"]),
        ("year=*/month=*/*.parquet", ["year=2026/month=01/p.parquet"], ["year=2026/p.parquet"]),
        ("*.csv", ["a.csv"], ["d/a.csv"]),
        ("data-[0-9]?.csv", ["data-1a.csv"], ["data-xa.csv", "data-1.csv"]),
        ("data-[!0-9].csv", ["data-x.csv"], ["data-1.csv"]),
        ("logs/**", ["logs/a", "logs/b/c"], ["other/a"]),
    ],
)
def test_glob_semantics(pattern: str, matches: list[str], misses: list[str]) -> None:
    regex = glob_to_regex(pattern)

    assert all(regex.match(path) for path in matches)
    assert not any(regex.match(path) for path in misses)


def test_listing_starts_at_the_literal_prefix() -> None:
    assert literal_prefix("year=2026/month=*/x.csv") == "year=2026/month="
    assert literal_prefix("**/*.json") == ""
    assert literal_prefix("exact/file.csv") == "exact/file.csv"
