"""Discovery on the real S3 store, Azurite, the GCS emulator and local files."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from autoloader_discovery.discover import discover
from autoloader_metadata.db import make_engine, session_factory, transaction
from autoloader_metadata.enums import ListingMode, RewrittenFilePolicy
from autoloader_model.ingestion import Ingestion
from autoloader_model.store import IngestionStore
from sqlalchemy.orm import Session, sessionmaker
from stores import KINDS, SERVICE, Place, new_place
from support import StackFactory, create_ingestion, migrated_database

from autoloader_storage import credentials
from autoloader_storage.errors import (
    AccessDenied,
    CredentialNotFound,
    EndpointUnreachable,
    SourceNotFound,
)
from autoloader_storage.listing import ListingRules, list_objects
from autoloader_storage.uri import parse_source_uri

LATER = datetime.now(UTC) + timedelta(hours=1)
LAYOUT = {
    "a.json": b'{"id": 1}\n',
    "b.json": b'{"id": 2}\n{"id": 3}\n',
    "sub/c.json": b'{"id": 4}\n',
    "sub/deeper/d.json": b'{"id": 5}\n',
    "_SUCCESS": b"",
    "_temporary/0/part.json": b"{}",
    ".hidden.json": b"{}",
    "notes.csv": b"a,b\n",
    "e.json.tmp": b"{}",
}
VISIBLE_JSON = ["a.json", "b.json", "sub/c.json", "sub/deeper/d.json"]


@pytest.fixture(scope="module")
def sessions(services: StackFactory) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(
        migrated_database(services("postgres")["AUTOLOADER_DATABASE_URL"], "it_discovery")
    )
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture(params=KINDS)
def place(request: pytest.FixtureRequest, services: StackFactory, tmp_path: Path) -> Place:
    service = SERVICE[request.param]
    settings = services(service) if service else {}
    return new_place(request.param, settings, tmp_path)


def listed(
    place: Place, rules: ListingRules, now: datetime = LATER, page_size: int = 1000
) -> list[str]:
    source = parse_source_uri(place.uri)
    connection = credentials.resolve(place.credential_ref, source.kind, place.environ)
    base = source.uri_of(source.prefix) + "/"
    return [
        o.uri.removeprefix(base)
        for o in list_objects(source, connection, rules, now, page_size=page_size)
    ]


def test_the_same_layout_lists_the_same_on_every_store(place: Place) -> None:
    place.put(LAYOUT)

    everything = listed(place, ListingRules(), page_size=2)
    json_only = listed(place, ListingRules(pattern="**/*.json"), page_size=3)
    top_level = listed(place, ListingRules(pattern="*.json"))
    too_young = listed(place, ListingRules(min_age=timedelta(minutes=10)), now=datetime.now(UTC))
    after_start = listed(place, ListingRules(start_date=LATER))

    assert everything == ["a.json", "b.json", "notes.csv", "sub/c.json", "sub/deeper/d.json"]
    assert json_only == VISIBLE_JSON
    assert top_level == ["a.json", "b.json"]
    assert too_young == [] and after_start == []


def test_a_listing_of_more_than_a_thousand_keys_is_complete(place: Place) -> None:
    count = 1_050 if place.kind == "gcs" else 1_500  # the GCS emulator is single-threaded
    keys = {f"part-{i:05d}.csv": b"x" for i in range(count)}
    if place.kind == "gcs":
        for key, body in keys.items():
            place.put_one(key, body)
    else:
        place.put(keys)

    assert listed(place, ListingRules()) == sorted(keys)


def ingestion_for(sessions: sessionmaker[Session], place: Place, **fields: object) -> Ingestion:
    ingestion_id = create_ingestion(
        sessions, source_uri=place.uri, credential_ref=place.credential_ref, **fields
    )
    with sessions() as session:
        ingestion = IngestionStore(session).find(ingestion_id)
    assert ingestion is not None
    return ingestion


def run_discovery(
    sessions: sessionmaker[Session], ingestion: Ingestion, place: Place, page_size: int = 1000
) -> tuple[set[str], set[str]]:
    with transaction(sessions) as session:
        result = discover(session, ingestion, LATER, place.environ, page_size)
    return {e.path for e in result.new}, {e.path for e in result.rewritten}


def test_a_rewritten_object_is_detected_by_etag_or_size(
    place: Place, sessions: sessionmaker[Session]
) -> None:
    place.put({"a.json": b'{"id": 1}\n', "b.json": b'{"id": 2}\n'})
    ingestion = ingestion_for(sessions, place, rewritten_file_policy=RewrittenFilePolicy.RELOAD)
    first, _ = run_discovery(sessions, ingestion, place)
    if place.kind == "local":
        time.sleep(0.01)  # a local file's version is its mtime and size
    place.put_one("b.json", b'{"id": 2, "fixed": true}\n')

    second_new, second_rewritten = run_discovery(sessions, ingestion, place)
    third_new, third_rewritten = run_discovery(sessions, ingestion, place)

    assert len(first) == 2
    assert second_new == set() and {p.rsplit("/", 1)[1] for p in second_rewritten} == {"b.json"}
    assert third_new == set() and third_rewritten == set()


@pytest.mark.parametrize("kind", ["s3"])
def test_files_landing_during_a_listing_are_found_now_or_next_time(
    kind: str, services: StackFactory, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    place = new_place(kind, services("s3"), tmp_path)
    place.put({f"k{i:04d}.json": b"{}" for i in range(0, 600, 2)})  # even keys exist
    ingestion = ingestion_for(sessions, place)
    landed: list[str] = []

    def land() -> None:  # odd keys land while the listing pages through
        for i in range(1, 600, 10):
            place.put_one(f"k{i:04d}.json", b"{}")
            landed.append(f"k{i:04d}.json")
            time.sleep(0.005)

    lander = threading.Thread(target=land)
    lander.start()
    first, _ = run_discovery(sessions, ingestion, place, page_size=10)
    lander.join()
    second, _ = run_discovery(sessions, ingestion, place, page_size=10)

    names = {path.rsplit("/", 1)[1] for path in first | second}
    assert first.isdisjoint(second)
    assert set(landed) <= names
    assert len(names) == 300 + len(landed)


def test_start_after_mode_lists_new_keys_and_a_full_listing_catches_late_ones(
    services: StackFactory, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    place = new_place("s3", services("s3"), tmp_path)
    place.put({f"dt=2026-11-0{d}/data.json": b"{}" for d in range(1, 5)})
    ingestion = ingestion_for(
        sessions, place, listing_mode=ListingMode.START_AFTER, full_listing_every=2
    )

    first, _ = run_discovery(sessions, ingestion, place)
    place.put({"dt=2026-11-05/data.json": b"{}", "dt=2026-10-31/late.json": b"{}"})
    second, _ = run_discovery(sessions, ingestion, place)  # lists after dt=2026-11-04
    third, _ = run_discovery(sessions, ingestion, place)  # every 2nd listing is full

    def short(paths: set[str]) -> set[str]:
        return {p.split("/", 4)[-1] for p in paths}

    assert len(first) == 4
    assert short(second) == {"dt=2026-11-05/data.json"}
    assert short(third) == {"dt=2026-10-31/late.json"}


# -- errors -------------------------------------------------------------------------------


def test_a_missing_bucket_or_container_is_source_not_found(
    services: StackFactory, tmp_path: Path
) -> None:
    for kind in ("s3", "azure", "gcs"):
        service = SERVICE[kind]
        assert service
        place = new_place(kind, services(service), tmp_path)
        missing = place.uri.replace("://", "://zz-missing-", 1)
        with pytest.raises(SourceNotFound, match="does not exist"):
            listed(
                Place(kind, missing, place.credential_ref, place.environ, place.fs, ""),
                ListingRules(),
            )


def test_a_wrong_secret_is_access_denied(services: StackFactory, tmp_path: Path) -> None:
    s3 = new_place("s3", services("s3"), tmp_path)
    s3.environ["IT_S3_SECRET_ACCESS_KEY"] = "wrong-secret"
    azure = new_place("azure", services("azurite"), tmp_path)
    azure.environ["IT_AZ_CONNECTION_STRING"] = azure.environ["IT_AZ_CONNECTION_STRING"].replace(
        "AccountKey=Eby8", "AccountKey=AAAA"
    )

    for place in (s3, azure):
        with pytest.raises(AccessDenied, match="access denied; check the ingestion's credential"):
            listed(place, ListingRules())


def test_an_endpoint_that_does_not_answer_is_unreachable(
    services: StackFactory, tmp_path: Path
) -> None:
    place = new_place("s3", services("s3"), tmp_path)
    place.environ["IT_S3_ENDPOINT_URL"] = "http://127.0.0.1:1"

    with pytest.raises(EndpointUnreachable, match="cannot be reached"):
        listed(place, ListingRules())


def test_a_credential_that_names_nothing_is_refused(tmp_path: Path, services: StackFactory) -> None:
    place = new_place("s3", services("s3"), tmp_path)
    place.credential_ref = "env:NOTHING_HERE"

    with pytest.raises(CredentialNotFound, match="NOTHING_HERE_ACCESS_KEY_ID"):
        listed(place, ListingRules())


def test_cleanup_deletes_and_moves_listed_files_on_every_store(place: Place) -> None:
    from autoloader_storage.cleanup import LoadedFile, SourceChanged, SourceCleaner

    place.put({"a.csv": b"id\n1\n", "sub/b.csv": b"id\n2\n", "c.csv": b"id\n3\n"})
    source = parse_source_uri(place.uri)
    archive = parse_source_uri(f"{place.uri}/_archive")
    connection = credentials.resolve(place.credential_ref, source.kind, place.environ)
    found = {
        o.uri.removeprefix(source.uri_of(source.prefix) + "/"): LoadedFile(o.uri, o.size, o.etag)
        for o in list_objects(source, connection, ListingRules(), LATER)
    }
    cleaner = SourceCleaner(source, connection, archive)
    assert cleaner.probe() == []

    cleaner.delete(found["a.csv"])
    moved_to = cleaner.move(found["sub/b.csv"])
    assert moved_to == f"{place.uri}/_archive/sub/b.csv"
    place.put({"c.csv": b"id\n3\n4\n"})  # rewritten since it was listed: left alone
    with pytest.raises(SourceChanged):
        cleaner.delete(found["c.csv"])

    assert listed(place, ListingRules()) == ["c.csv"]
    assert listed(place, ListingRules(include_hidden=True)) == ["_archive/sub/b.csv", "c.csv"]
    assert place.fs.cat(f"{place.root}/_archive/sub/b.csv") == b"id\n2\n"

    if place.kind == "local":
        return
    # An archive in another bucket (container) of the same store.
    other = f"it-archive-{uuid.uuid4().hex[:8]}"
    place.fs.mkdir(other)
    elsewhere = parse_source_uri(
        place.uri.replace(place.root.split("/", 1)[0], other, 1).rsplit("/", 1)[0] + "/kept"
    )
    place.put({"d.csv": b"id\n5\n"})
    [d] = [
        LoadedFile(o.uri, o.size, o.etag)
        for o in list_objects(source, connection, ListingRules(pattern="d.csv"), LATER)
    ]
    archived = SourceCleaner(source, connection, elsewhere).move(d)
    assert archived == elsewhere.uri_of(f"{elsewhere.prefix}/d.csv")
    assert place.fs.cat(f"{other}/kept/d.csv") == b"id\n5\n"
    assert listed(place, ListingRules(pattern="d.csv")) == []
