"""The REST API over HTTP: one client per command, errors turned into what a terminal shows.

`--verbose` logs each request's method, URL and status to stderr; headers are never logged, so
the Authorization header (the key) cannot reach a log.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
from autoloader_cli.config import Profile

log = logging.getLogger("autoloader_cli.http")
PAGE = 200  # the API's largest page


class ApiError(Exception):
    """The API refused or failed a request; `detail` is what it said."""

    def __init__(self, status: int, detail: Any, method: str, path: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"{method} {path}: {status}: {_words(detail)}")


class ValidationFailed(ApiError):
    """422: each error has the `loc` of the field it names and a `msg`."""

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.detail if isinstance(self.detail, list) else []


class Unreachable(Exception):
    """The server did not answer (down, wrong URL, timed out)."""


class Api:
    def __init__(self, profile: Profile, timeout: float = 30.0) -> None:
        headers = {"Authorization": f"Bearer {profile.api_key}"} if profile.api_key else {}
        self.base_url = profile.url
        self.http = httpx.Client(
            base_url=profile.url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=10.0),
            event_hooks={"request": [_log_request], "response": [_log_response]},
        )

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def call(self, method: str, endpoint: str, **options: Any) -> Any:
        try:
            response = self.http.request(method, endpoint, **options)
        except httpx.TimeoutException:
            raise Unreachable(
                f"{self.base_url} did not answer {method} {endpoint} in time"
            ) from None
        except httpx.TransportError as error:
            raise Unreachable(f"cannot reach {self.base_url}: {error}") from None
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            error_type = ValidationFailed if response.status_code == 422 else ApiError
            raise error_type(response.status_code, detail, method, endpoint)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def get(self, endpoint: str, **params: Any) -> Any:
        wanted = {k: v for k, v in params.items() if v is not None}
        return self.call("GET", endpoint, params=wanted)

    def post(self, endpoint: str, body: Any = None, **options: Any) -> Any:
        return self.call("POST", endpoint, json=body, **options)

    def pages(self, endpoint: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paged list."""
        offset = 0
        while True:
            page = self.get(endpoint, limit=PAGE, offset=offset, **params)
            yield from page["items"]
            offset += len(page["items"])
            total = page["pagination"].get("total")
            if not page["items"] or (total is not None and offset >= total):
                return

    # -- ingestions by name or id ---------------------------------------------------------

    def ingestions(self) -> list[dict[str, Any]]:
        return list(self.pages("/api/v1/ingestions"))

    def ingestion(self, name_or_id: str) -> dict[str, Any]:
        """The tenant's ingestion of that name (or id); ApiError 404 when there is none."""
        if _is_uuid(name_or_id):
            found: dict[str, Any] = self.get(f"/api/v1/ingestions/{name_or_id}")
            return found
        for item in self.pages("/api/v1/ingestions", name=name_or_id):
            if item["name"] == name_or_id:
                named: dict[str, Any] = self.get(f"/api/v1/ingestions/{item['id']}")
                return named
        raise ApiError(404, f"no ingestion named {name_or_id!r}", "GET", "/api/v1/ingestions")


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _words(detail: Any) -> str:
    if isinstance(detail, list):
        return "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', []))}: {e.get('msg')}" for e in detail
        )
    return str(detail)


def _log_request(request: httpx.Request) -> None:
    log.info("→ %s %s", request.method, request.url)


def _log_response(response: httpx.Response) -> None:
    log.info("← %s %s %d", response.request.method, response.request.url, response.status_code)
