import re

import pytest

from autoloader_storage.globs import compile_glob, literal_prefix


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("**/*.json", ["a.json", "x/y/a.json"], ["a.jsonl", "x/a.csv"]),
        ("year=*/month=*/*.parquet", ["year=2026/month=01/p.parquet"], ["year=2026/p.parquet"]),
        ("*.csv", ["a.csv"], ["d/a.csv"]),
        ("data-[0-9]?.csv", ["data-1a.csv"], ["data-xa.csv", "data-1.csv"]),
        ("data-[!0-9].csv", ["data-x.csv"], ["data-1.csv"]),
        ("logs/**", ["logs/a", "logs/b/c"], ["other/a"]),
        ("**/x/*.csv", ["x/a.csv", "p/q/x/a.csv"], ["px/a.csv", "x/y/a.csv"]),
        ("a**b", ["ab", "a/x/b"], ["a/x/c"]),
        ("[", ["["], ["a"]),
        ("x[ab]", ["xa", "xb"], ["xc", "x/"]),
    ],
)
def test_glob_semantics(pattern: str, matches: list[str], misses: list[str]) -> None:
    glob = compile_glob(pattern)

    for match in (glob.match, glob.automaton_match):  # the regex path and the automaton agree
        assert all(match(path) for path in matches)
        assert not any(match(path) for path in misses)


def test_listing_starts_at_the_literal_prefix() -> None:
    assert literal_prefix("year=2026/month=*/x.csv") == "year=2026/month="
    assert literal_prefix("**/*.json") == ""
    assert literal_prefix("exact/file.csv") == "exact/file.csv"


PATHOLOGICAL = "**a**a**a**a**a**a**a**a**b"


def test_a_pathological_glob_is_matched_in_linear_time() -> None:
    """A backtracking matcher takes time exponential in the stars on a key with no b. The
    steps are counted, not timed: the automaton visits at most (tokens + 1) states per char."""
    glob = compile_glob(PATHOLOGICAL)
    assert glob.regex is None  # too many unbounded stars for a backtracking engine
    key = "a" * 2000
    steps = 0
    step = glob._step

    def counted(index: int, char: str) -> tuple[int, ...]:
        nonlocal steps
        steps += 1
        return step(index, char)

    object.__setattr__(glob, "_step", counted)
    assert not glob.match(key)
    assert glob.match(key + "b")
    assert steps <= 2 * (len(key) + 1) * (len(glob.tokens) + 1)


def test_the_automaton_agrees_with_a_regex_on_ordinary_patterns() -> None:
    as_regex = {"**/*.json": r"(?:.*/)?[^/]*\.json", "a/*/b?": r"a/[^/]*/b[^/]"}
    for pattern, regex in as_regex.items():
        for key in ["a.json", "x/y.json", "a/q/bz", "a/q/r/bz", "a/bz", "x.jsonl"]:
            assert compile_glob(pattern).match(key) == bool(re.fullmatch(regex, key)), (
                pattern,
                key,
            )
