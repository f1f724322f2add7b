"""Listing a source as a stream of small records, one page at a time, whatever its size.

Each store is listed with its own paginated API (ListObjectsV2, List Blobs, objects.list), so
memory holds one page (1,000 keys), never the bucket. Filters (glob, ages, start date, hidden and
temporary files) apply as the pages stream by. Keys come in lexicographic order.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from autoloader_storage.credentials import Connection
from autoloader_storage.errors import SourceNotFound
from autoloader_storage.filesystems import filesystem
from autoloader_storage.globs import compile_glob, literal_prefix
from autoloader_storage.retry import call_with_retries
from autoloader_storage.uri import SourceURI, StoreKind

PAGE_SIZE = 1000
# Written by Spark, Hadoop and friends beside the data: never data themselves.
TEMPORARY_SUFFIXES = ("$folder$", ".tmp", ".crc")


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    uri: str
    key: str
    size: int
    etag: str | None
    modified_at: datetime


@dataclass(frozen=True)
class ListingRules:
    """Which objects under the source count. `pattern` is relative to the source prefix."""

    pattern: str | None = None
    min_age: timedelta = timedelta(0)
    max_age: timedelta | None = None
    start_date: datetime | None = None
    include_hidden: bool = False


def list_objects(
    source: SourceURI,
    connection: Connection,
    rules: ListingRules | None = None,
    now: datetime | None = None,
    start_after: str | None = None,
    page_size: int = PAGE_SIZE,
    on_too_young: Callable[[ObjectInfo], None] | None = None,
) -> Iterator[ObjectInfo]:
    """Every object of the source that the rules admit, in key order, streamed page by page.

    `start_after` (a key) lists only keys after it, for sources whose keys grow in order.
    `on_too_young` hears of each object skipped only because it is younger than min_age: it
    will be admitted by a later listing, so a start-after position must not pass it.
    """
    now = now or datetime.now(UTC)
    rules = rules or ListingRules()
    base = source.prefix.strip("/")
    base_prefix = f"{base}/" if base else ""
    if source.kind is StoreKind.LOCAL:
        base_prefix = source.prefix.rstrip("/") + "/"
    pattern = compile_glob(rules.pattern) if rules.pattern else None
    list_prefix = base_prefix + (literal_prefix(rules.pattern) if rules.pattern else "")
    pages = _PAGERS[source.kind](source, connection, list_prefix, start_after, page_size)
    newest = now - rules.min_age
    oldest = max(
        [d for d in (rules.start_date, now - rules.max_age if rules.max_age else None) if d],
        default=None,
    )
    for page in pages:
        for item in page:
            relative = item.key[len(base_prefix) :]
            if not relative or relative.endswith("/"):
                continue
            if not rules.include_hidden and _hidden(relative):
                continue
            if pattern and not pattern.match(relative):
                continue
            if oldest and item.modified_at < oldest:
                continue
            if item.modified_at > newest:
                if on_too_young:
                    on_too_young(item)
                continue
            yield item


def stat_object(source: SourceURI, connection: Connection, key: str) -> ObjectInfo | None:
    """The object at `key` as a listing reports it (same size and ETag forms), None if absent."""
    if source.kind is StoreKind.LOCAL:
        try:
            return _local_info(source, key)
        except FileNotFoundError:
            return None
    # Listing from the key itself: the key, if present, is the first entry.
    first_page = next(iter(_PAGERS[source.kind](source, connection, key, None, 1)), [])
    return next((item for item in first_page if item.key == key), None)


def _hidden(relative: str) -> bool:
    if relative.endswith(TEMPORARY_SUFFIXES):
        return True
    return any(part.startswith(("_", ".")) for part in relative.split("/"))


Pager = Callable[[SourceURI, Connection, str, str | None, int], Iterator[list[ObjectInfo]]]


def _s3_pages(
    source: SourceURI, connection: Connection, prefix: str, start_after: str | None, size: int
) -> Iterator[list[ObjectInfo]]:
    fs = filesystem(source, connection)
    request: dict[str, Any] = {"Bucket": source.bucket, "Prefix": prefix, "MaxKeys": size}
    if start_after:
        request["StartAfter"] = start_after
    while True:
        page = call_with_retries(source, partial(fs.call_s3, "list_objects_v2", **request))
        yield [
            ObjectInfo(
                uri=source.uri_of(entry["Key"]),
                key=entry["Key"],
                size=int(entry["Size"]),
                etag=_etag(entry.get("ETag")),
                modified_at=entry["LastModified"],
            )
            for entry in page.get("Contents", [])
        ]
        if not page.get("IsTruncated"):
            return
        request = {**request, "ContinuationToken": page["NextContinuationToken"]}
        request.pop("StartAfter", None)


def _azure_pages(
    source: SourceURI, connection: Connection, prefix: str, start_after: str | None, size: int
) -> Iterator[list[ObjectInfo]]:
    from autoloader_storage.azure import container_client

    container = container_client(source, connection)
    pager = container.list_blobs(name_starts_with=prefix or None, results_per_page=size)
    pages = pager.by_page()
    while True:
        page = call_with_retries(source, partial(_next_page, pages))
        if page is None:
            return
        yield [
            ObjectInfo(
                uri=source.uri_of(blob.name),
                key=blob.name,
                size=int(blob.size),
                etag=_etag(blob.etag),
                modified_at=blob.last_modified,
            )
            for blob in page
            # Azure cannot start after a key server-side; ADLS Gen2 lists folders as blobs.
            if (not start_after or blob.name > start_after)
            and not (blob.metadata or {}).get("hdi_isfolder")
        ]


def _next_page(pages: Iterator[Any]) -> list[Any] | None:
    """Fetches the next page of an Azure pager (the request happens here), None at the end."""
    try:
        return list(next(pages))
    except StopIteration:
        return None


def _gcs_pages(
    source: SourceURI, connection: Connection, prefix: str, start_after: str | None, size: int
) -> Iterator[list[ObjectInfo]]:
    fs = filesystem(source, connection)
    request: dict[str, Any] = {"prefix": prefix, "maxResults": size}
    if start_after:
        # startOffset is inclusive: the key itself is dropped below.
        request["startOffset"] = start_after
    while True:
        page = call_with_retries(
            source, partial(fs.call, "GET", "b/{}/o", source.bucket, json_out=True, **request)
        )
        yield [
            ObjectInfo(
                uri=source.uri_of(item["name"]),
                key=item["name"],
                size=int(item["size"]),
                etag=_etag(item.get("etag") or item.get("md5Hash")),
                modified_at=datetime.fromisoformat(item["updated"].replace("Z", "+00:00")),
            )
            for item in page.get("items", [])
            if item["name"] != start_after
        ]
        token = page.get("nextPageToken")
        if not token:
            return
        request = {**request, "pageToken": token}


def _local_pages(
    source: SourceURI, connection: Connection, prefix: str, start_after: str | None, size: int
) -> Iterator[list[ObjectInfo]]:
    root = source.prefix
    if not os.path.isdir(root):
        raise SourceNotFound(f"{source.uri_of(root)}: no such directory")
    page: list[ObjectInfo] = []
    for path in _walk_sorted(root):
        if not path.startswith(prefix) or (start_after and path <= start_after):
            continue
        page.append(_local_info(source, path))
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page


def _local_info(source: SourceURI, path: str) -> ObjectInfo:
    stat = os.stat(path)
    return ObjectInfo(
        uri=source.uri_of(path),
        key=path,
        size=stat.st_size,
        etag=f"{stat.st_mtime_ns:x}-{stat.st_size:x}",
        modified_at=datetime.fromtimestamp(stat.st_mtime, UTC),
    )


def _walk_sorted(root: str) -> Iterator[str]:
    """Files under root in the same order object stores list keys (plain string order)."""
    try:
        entries = sorted(os.scandir(root), key=lambda e: e.name + ("/" if e.is_dir() else ""))
    except FileNotFoundError:
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            yield from _walk_sorted(entry.path)
        elif entry.is_file():
            yield entry.path


def _etag(value: str | None) -> str | None:
    return value.strip('"') if value else None


_PAGERS: dict[StoreKind, Pager] = {
    StoreKind.S3: _s3_pages,
    StoreKind.AZURE: _azure_pages,
    StoreKind.GCS: _gcs_pages,
    StoreKind.LOCAL: _local_pages,
}
