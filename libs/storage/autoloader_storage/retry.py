"""Store errors translated into ones a user can act on; throttling retried with backoff."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from autoloader_storage.errors import (
    AccessDenied,
    EndpointUnreachable,
    SourceNotFound,
    StorageError,
    Throttled,
)
from autoloader_storage.uri import SourceURI

T = TypeVar("T")
THROTTLE_MARKERS = ("SlowDown", "Throttl", "TooManyRequests", "ServerBusy", "RequestLimitExceeded")


def call_with_retries(
    source: SourceURI,
    call: Callable[[], T],
    attempts: int = 5,
    base_delay: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Runs `call`; a throttled call is retried with jittered exponential backoff."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as error:  # every store error is translated below
            translated = translate(source, error)
            if not isinstance(translated, Throttled) or attempt == attempts:
                raise translated from error
            sleep(base_delay * 2 ** (attempt - 1) * (1 + random.random()))
    raise AssertionError("unreachable")


def translate(source: SourceURI, error: BaseException) -> StorageError:
    """The StorageError that says what went wrong with `source`, whatever SDK raised it."""
    if isinstance(error, StorageError):
        return error
    where = source.uri_of(source.prefix) if source.prefix else source.root
    message = str(error) or type(error).__name__
    status = _status(error)
    name = type(error).__name__
    if status in (429, 503) or any(marker in message for marker in THROTTLE_MARKERS):
        return Throttled(f"{where}: the store is throttling requests ({message})")
    if (
        isinstance(error, FileNotFoundError)
        or status == 404
        or name in ("ResourceNotFoundError", "NoSuchBucket")
    ):
        return SourceNotFound(f"{where}: the bucket or container does not exist ({message})")
    if (
        isinstance(error, PermissionError)
        or status in (401, 403)
        or name == "ClientAuthenticationError"
    ):
        return AccessDenied(f"{where}: access denied; check the ingestion's credential ({message})")
    if isinstance(error, ConnectionError | OSError) or name in (
        "EndpointConnectionError",
        "ServiceRequestError",
        "ClientConnectorError",
        "ConnectTimeoutError",
    ):
        return EndpointUnreachable(f"{where}: the storage endpoint cannot be reached ({message})")
    return StorageError(f"{where}: {name}: {message}")


def _status(error: BaseException) -> int | None:
    for attribute in ("status_code", "code", "status"):
        value = getattr(error, attribute, None)
        if isinstance(value, int):
            return value
    return None
