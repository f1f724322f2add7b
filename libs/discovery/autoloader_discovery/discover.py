"""discover(): list an ingestion's source and record it in the ledger; return what is new.

The ledger, not a modification-time high-water mark, decides what is new: a file is found as
long as it is listed once, whatever its timestamp. In START_AFTER mode only keys after the last
one seen are listed, and every `full_listing_every`-th discovery lists everything as a backstop
for keys that arrive out of order.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from autoloader_metadata.enums import ListingMode
from autoloader_metadata.ledger import FileLedger, LedgerEntry, ListedFile
from autoloader_metadata.models import DiscoveryState
from autoloader_model.ingestion import Ingestion
from sqlalchemy.orm import Session

from autoloader_storage import credentials
from autoloader_storage.listing import PAGE_SIZE, ListingRules, ObjectInfo, list_objects
from autoloader_storage.reach import ReachPolicy
from autoloader_storage.uri import parse_source_uri


@dataclass(frozen=True)
class DiscoveryResult:
    listed: int
    new: list[LedgerEntry]
    rewritten: list[LedgerEntry]
    full_listing: bool
    seconds: float


def rules_of(ingestion: Ingestion) -> ListingRules:
    source = ingestion.spec.source
    return ListingRules(
        pattern=source.glob,
        min_age=timedelta(seconds=source.min_file_age_seconds),
        max_age=(
            timedelta(seconds=source.max_file_age_seconds) if source.max_file_age_seconds else None
        ),
        start_date=source.start_date,
    )


def discover(
    session: Session,
    ingestion: Ingestion,
    now: datetime | None = None,
    environ: Mapping[str, str] | None = None,
    page_size: int = PAGE_SIZE,
    reach: ReachPolicy | None = None,
) -> DiscoveryResult:
    """Lists the source, records the listing in the ledger (in the caller's transaction)."""
    started = time.perf_counter()
    wanted = ingestion.spec.source
    source = parse_source_uri(wanted.uri)
    connection = credentials.resolve(wanted.credential_ref, source.kind, environ)
    if reach is not None:
        reach.check(source, connection)
    state = session.get(DiscoveryState, ingestion.id, with_for_update=True)
    if state is None:
        state = DiscoveryState(ingestion_id=ingestion.id, listings_since_full=0)
        session.add(state)
    full = (
        wanted.listing_mode is ListingMode.FULL
        or state.last_key is None
        or state.listings_since_full + 1 >= wanted.full_listing_every
    )
    position = _Position(state.last_key if not full else None)
    objects = list_objects(
        source,
        connection,
        rules_of(ingestion),
        now=now or datetime.now(UTC),
        start_after=position.start,
        page_size=page_size,
        on_too_young=position.hold,
    )
    diff = FileLedger(session).record_listing(
        ingestion.id, position.track(objects), wanted.rewritten_files
    )
    if wanted.listing_mode is ListingMode.START_AFTER:
        state.last_key = position.last or state.last_key
        state.listings_since_full = 0 if full else state.listings_since_full + 1
    if full:
        state.last_full_listing_at = datetime.now(UTC)
    return DiscoveryResult(
        listed=diff.listed,
        new=diff.new,
        rewritten=diff.rewritten,
        full_listing=full,
        seconds=time.perf_counter() - started,
    )


class _Position:
    """The key a later START_AFTER listing may resume after.

    It advances over every key recorded, and stops before the first key held back for being too
    young, which a later listing must still see.
    """

    def __init__(self, start: str | None) -> None:
        self.start = start
        self.last: str | None = None
        self.held = False

    def hold(self, item: ObjectInfo) -> None:
        self.held = True

    def track(self, objects: Iterator[ObjectInfo]) -> Iterator[ListedFile]:
        for item in objects:
            if not self.held:
                self.last = item.key
            yield ListedFile(item.uri, item.size, item.etag, item.modified_at)
