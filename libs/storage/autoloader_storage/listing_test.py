import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from autoloader_storage.credentials import resolve
from autoloader_storage.listing import ListingRules, ObjectInfo, list_objects
from autoloader_storage.uri import StoreKind, parse_source_uri

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def put(root: Path, relative: str, age: timedelta = timedelta(hours=1)) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(relative)
    stamp = (NOW - age).timestamp()
    os.utime(path, (stamp, stamp))


def keys(root: Path, rules: ListingRules | None = None, page_size: int = 2) -> list[str]:
    source = parse_source_uri(f"file://{root}")
    listed = list_objects(source, resolve(None, StoreKind.LOCAL), rules, NOW, page_size=page_size)
    return [item.key[len(str(root)) + 1 :] for item in listed]


def test_hidden_and_temporary_files_are_skipped(tmp_path: Path) -> None:
    for name in [
        "a.csv",
        "_SUCCESS",
        ".hidden.csv",
        "_temporary/0/part.csv",
        "d/.x/b.csv",
        "d/b.csv",
        "d/b.csv.crc",
        "d/c.tmp",
    ]:
        put(tmp_path, name)

    assert keys(tmp_path) == ["a.csv", "d/b.csv"]
    assert "_SUCCESS" in keys(tmp_path, ListingRules(include_hidden=True))


def test_ages_and_start_date_bound_the_listing(tmp_path: Path) -> None:
    put(tmp_path, "young.csv", timedelta(seconds=10))
    put(tmp_path, "ripe.csv", timedelta(minutes=10))
    put(tmp_path, "old.csv", timedelta(days=10))
    young: list[ObjectInfo] = []

    rules = ListingRules(min_age=timedelta(minutes=1), max_age=timedelta(days=2))
    source = parse_source_uri(f"file://{tmp_path}")
    listed = list(
        list_objects(source, resolve(None, StoreKind.LOCAL), rules, NOW, on_too_young=young.append)
    )

    assert [item.key.rsplit("/", 1)[1] for item in listed] == ["ripe.csv"]
    assert [item.key.rsplit("/", 1)[1] for item in young] == ["young.csv"]
    assert keys(tmp_path, ListingRules(start_date=NOW - timedelta(hours=1))) == [
        "ripe.csv",
        "young.csv",
    ]


def test_globs_apply_below_the_source_prefix(tmp_path: Path) -> None:
    for name in [
        "year=2026/month=01/a.parquet",
        "year=2026/month=01/a.json",
        "year=2026/b.parquet",
        "year=2025/month=12/c.parquet",
    ]:
        put(tmp_path, name)

    assert keys(tmp_path, ListingRules(pattern="year=2026/month=*/*.parquet")) == [
        "year=2026/month=01/a.parquet"
    ]
    assert keys(tmp_path, ListingRules(pattern="**/*.parquet")) == [
        "year=2025/month=12/c.parquet",
        "year=2026/b.parquet",
        "year=2026/month=01/a.parquet",
    ]


def test_start_after_lists_only_later_keys(tmp_path: Path) -> None:
    for day in range(1, 6):
        put(tmp_path, f"dt=2026-11-0{day}/data.csv")
    source = parse_source_uri(f"file://{tmp_path}")

    later = list_objects(
        source,
        resolve(None, StoreKind.LOCAL),
        ListingRules(),
        NOW,
        start_after=f"{tmp_path}/dt=2026-11-03/data.csv",
    )

    assert [item.key[len(str(tmp_path)) + 1 :] for item in later] == [
        "dt=2026-11-04/data.csv",
        "dt=2026-11-05/data.csv",
    ]
