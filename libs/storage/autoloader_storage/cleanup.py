"""Source cleanup (after_load delete or move): removing a loaded file from its source, only while
it is still the version that was loaded, and checking beforehand that the credential may.

A move copies, checks the copy's size, then deletes the original: a failure at any step leaves
the original in place, so nothing is ever lost to a half-done move.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol, TypeVar

from autoloader_storage.credentials import Connection
from autoloader_storage.errors import StorageError
from autoloader_storage.filesystems import filesystem
from autoloader_storage.listing import ObjectInfo, stat_object
from autoloader_storage.retry import call_with_retries
from autoloader_storage.uri import SourceURI, StoreKind

T = TypeVar("T")
PROBE_PREFIX = ".autoloader-probe-"  # hidden: no listing admits it
COPY_WAIT_SECONDS = 300


class SourceChanged(StorageError):
    """The object at a loaded file's path is not the version that was loaded: left alone."""


class CopyFailed(StorageError):
    """A move's copy did not arrive whole; the original stays where it was."""


@dataclass(frozen=True)
class LoadedFile:
    uri: str
    size: int
    etag: str | None


class _Objects(Protocol):
    """The three object operations cleanup needs, each on a place of one store (the source,
    or an archive in another bucket or container of it)."""

    def delete(self, place: SourceURI, key: str) -> None:
        ...

    def copy(self, place: SourceURI, key: str, target: SourceURI, target_key: str) -> None:
        ...

    def write_empty(self, place: SourceURI, key: str) -> None:
        ...


class SourceCleaner:
    """Deletes or moves loaded files of one source; `archive` is where moves go."""

    def __init__(
        self, source: SourceURI, connection: Connection, archive: SourceURI | None = None
    ) -> None:
        self.source = source
        self.connection = connection
        self.archive = archive
        self._objects = _objects_of(source, connection)

    def delete(self, file: LoadedFile) -> None:
        """Deletes the file; one already gone counts as deleted."""
        key = self._key_of(file.uri)
        if self._current(file, key) is not None:
            self._call(partial(self._objects.delete, self.source, key))

    def move(self, file: LoadedFile) -> str:
        """Moves the file under the archive at the same relative path; returns where to. A file
        already gone (moved by an earlier attempt that did not get to record it) counts as moved."""
        if self.archive is None:
            raise ValueError("a move needs an archive")
        key = self._key_of(file.uri)
        destination_key = _below(self.archive, _relative(self.source, key))
        destination = self.archive.uri_of(destination_key)
        if self._current(file, key) is None:
            return destination
        self._call(partial(self._objects.copy, self.source, key, self.archive, destination_key))
        copied = self._call(
            partial(stat_object, self.archive, self.connection, destination_key), self.archive
        )
        if copied is None or copied.size != file.size:
            raise CopyFailed(
                f"{destination}: the copy of {file.uri} did not arrive whole; the file stays"
            )
        self._call(partial(self._objects.delete, self.source, key))
        return destination

    def probe(self) -> list[str]:
        """Problems cleanup would meet: writes and deletes a hidden empty object in the source
        (and the archive), since listing rights say nothing of write rights."""
        places = [self.source] + ([self.archive] if self.archive is not None else [])
        problems: list[str] = []
        for place in places:
            key = _below(place, f"{PROBE_PREFIX}{uuid.uuid4().hex}")
            try:
                self._call(partial(self._objects.write_empty, place, key), place)
                self._call(partial(self._objects.delete, place, key), place)
            except StorageError as error:
                problems.append(
                    f"source.after_load: cannot write and delete in "
                    f"{place.uri_of(place.prefix)}, which cleanup needs ({error})"
                )
        return problems

    def _current(self, file: LoadedFile, key: str) -> ObjectInfo | None:
        found = self._call(partial(stat_object, self.source, self.connection, key))
        if found is not None and (found.size != file.size or found.etag != file.etag):
            raise SourceChanged(
                f"{file.uri}: changed since it was loaded (size {file.size} → {found.size}); "
                "left in place for the next listing"
            )
        return found

    def _key_of(self, uri: str) -> str:
        root = "file://" if self.source.kind is StoreKind.LOCAL else f"{self.source.root}/"
        if not uri.startswith(root):
            raise ValueError(f"{uri} is not in {self.source.root}")
        return uri[len(root) :]

    def _call(self, call: Callable[[], T], place: SourceURI | None = None) -> T:
        return call_with_retries(place or self.source, call)


def _relative(source: SourceURI, key: str) -> str:
    """The key's path below the source's prefix."""
    base = source.prefix.rstrip("/") if source.kind is StoreKind.LOCAL else source.prefix.strip("/")
    return key[len(base) + 1 :] if base and key.startswith(f"{base}/") else key.lstrip("/")


def _below(place: SourceURI, relative: str) -> str:
    if place.kind is StoreKind.LOCAL:
        return f"{place.prefix.rstrip('/')}/{relative}"
    base = place.prefix.strip("/")
    return f"{base}/{relative}" if base else relative


def _objects_of(source: SourceURI, connection: Connection) -> _Objects:
    if source.kind is StoreKind.AZURE:
        return _AzureObjects(source, connection)
    return _FsspecObjects(source, connection)


class _FsspecObjects:
    """S3, GCS and local files through their fsspec filesystems (server-side copies)."""

    def __init__(self, source: SourceURI, connection: Connection) -> None:
        self.fs: Any = filesystem(source, connection)

    @staticmethod
    def _path(place: SourceURI, key: str) -> str:
        return key if place.kind is StoreKind.LOCAL else f"{place.bucket}/{key}"

    def delete(self, place: SourceURI, key: str) -> None:
        self.fs.rm_file(self._path(place, key))

    def copy(self, place: SourceURI, key: str, target: SourceURI, target_key: str) -> None:
        self._folder_for(target, target_key)
        self.fs.cp_file(self._path(place, key), self._path(target, target_key))

    def write_empty(self, place: SourceURI, key: str) -> None:
        self._folder_for(place, key)
        self.fs.pipe_file(self._path(place, key), b"")

    def _folder_for(self, place: SourceURI, key: str) -> None:
        if place.kind is StoreKind.LOCAL:  # object stores have no folders to make
            self.fs.makedirs(os.path.dirname(key), exist_ok=True)


class _AzureObjects:
    """Azure Blob / ADLS through the SDK, whose server-side copy can be waited for."""

    def __init__(self, source: SourceURI, connection: Connection) -> None:
        self.connection = connection
        self.containers: dict[str, Any] = {}

    def _container(self, place: SourceURI) -> Any:
        from autoloader_storage.azure import container_client

        if place.bucket not in self.containers:
            self.containers[place.bucket] = container_client(place, self.connection)
        return self.containers[place.bucket]

    def delete(self, place: SourceURI, key: str) -> None:
        self._container(place).delete_blob(key)

    def copy(self, place: SourceURI, key: str, target: SourceURI, target_key: str) -> None:
        copy = self._container(target).get_blob_client(target_key)
        copy.start_copy_from_url(self._container(place).get_blob_client(key).url)
        deadline = time.monotonic() + COPY_WAIT_SECONDS
        while (status := copy.get_blob_properties().copy.status) == "pending":
            if time.monotonic() > deadline:
                copy.abort_copy(copy.get_blob_properties())
                raise CopyFailed(f"{target_key}: the copy took over {COPY_WAIT_SECONDS} s")
            time.sleep(1)
        if status not in (None, "success"):
            raise CopyFailed(f"{target_key}: the copy ended {status}")

    def write_empty(self, place: SourceURI, key: str) -> None:
        self._container(place).upload_blob(key, b"", overwrite=True)
