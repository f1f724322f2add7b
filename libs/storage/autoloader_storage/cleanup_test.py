import os
from pathlib import Path

import pytest

from autoloader_storage.cleanup import PROBE_PREFIX, LoadedFile, SourceChanged, SourceCleaner
from autoloader_storage.credentials import resolve
from autoloader_storage.listing import list_objects
from autoloader_storage.uri import StoreKind, parse_source_uri


def cleaner(source: Path, archive: Path | None = None) -> SourceCleaner:
    uri = parse_source_uri(f"file://{source}")
    return SourceCleaner(
        uri,
        resolve(None, StoreKind.LOCAL, {}),
        parse_source_uri(f"file://{archive}") if archive else None,
    )


def loaded(source: Path, relative: str) -> LoadedFile:
    """The file as a listing recorded it (what the ledger holds)."""
    uri = parse_source_uri(f"file://{source}")
    found = {item.key: item for item in list_objects(uri, resolve(None, StoreKind.LOCAL, {}))}
    item = found[str(source / relative)]
    return LoadedFile(item.uri, item.size, item.etag)


def test_delete_removes_the_loaded_file_and_a_second_delete_finds_it_gone(tmp_path: Path) -> None:
    (tmp_path / "in" / "2026").mkdir(parents=True)
    (tmp_path / "in" / "2026" / "a.csv").write_text("id\n1\n")
    file = loaded(tmp_path / "in", "2026/a.csv")
    cleaner(tmp_path / "in").delete(file)
    assert not (tmp_path / "in" / "2026" / "a.csv").exists()
    cleaner(tmp_path / "in").delete(file)  # already gone: done, no error


def test_move_keeps_the_path_below_the_archive(tmp_path: Path) -> None:
    (tmp_path / "in" / "2026").mkdir(parents=True)
    (tmp_path / "in" / "2026" / "a.csv").write_text("id\n1\n")
    file = loaded(tmp_path / "in", "2026/a.csv")
    moved_to = cleaner(tmp_path / "in", tmp_path / "in" / "_archive").move(file)
    assert moved_to == f"file://{tmp_path}/in/_archive/2026/a.csv"
    assert (tmp_path / "in" / "_archive" / "2026" / "a.csv").read_text() == "id\n1\n"
    assert not (tmp_path / "in" / "2026" / "a.csv").exists()


def test_a_file_rewritten_since_its_load_is_left_in_place(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    target = tmp_path / "in" / "a.csv"
    target.write_text("id\n1\n")
    file = loaded(tmp_path / "in", "a.csv")
    target.write_text("id\n1\n2\n")
    with pytest.raises(SourceChanged, match="changed since it was loaded"):
        cleaner(tmp_path / "in").delete(file)
    with pytest.raises(SourceChanged):
        cleaner(tmp_path / "in", tmp_path / "archive").move(file)
    assert target.read_text() == "id\n1\n2\n"
    assert not (tmp_path / "archive").exists()


def test_the_probe_leaves_nothing_behind_and_reports_what_it_cannot_write(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    assert cleaner(tmp_path / "in", tmp_path / "archive").probe() == []
    assert os.listdir(tmp_path / "in") == []
    assert not any(name.startswith(PROBE_PREFIX) for name in os.listdir(tmp_path / "archive"))
    (tmp_path / "blocked").write_text("a file where the archive's folder should be")
    problems = cleaner(tmp_path / "in", tmp_path / "blocked" / "archive").probe()
    assert len(problems) == 1
    assert f"{tmp_path}/blocked/archive" in problems[0] and "cleanup needs" in problems[0]
