"""What an ingestion may make a worker or Spark read: local paths and custom endpoints only
when the operator allows them, and endpoints only from the operator's allow-list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from autoloader_core.settings import Settings
from autoloader_storage.credentials import Connection
from autoloader_storage.errors import ReachRefused
from autoloader_storage.uri import SourceURI, StoreKind


@dataclass(frozen=True)
class ReachPolicy:
    local_sources: bool = True
    custom_endpoints: bool = True
    allowed_endpoints: Sequence[str] = ()

    @classmethod
    def of(cls, settings: Settings) -> ReachPolicy:
        return cls(
            local_sources=settings.local_sources_allowed,
            custom_endpoints=settings.custom_endpoints_allowed,
            allowed_endpoints=tuple(settings.allowed_endpoints),
        )

    def check_source(self, source: SourceURI) -> None:
        if source.kind is StoreKind.LOCAL and not self.local_sources:
            raise ReachRefused(
                "file:// sources are not allowed on this installation "
                "(the operator enables them with AUTOLOADER_ALLOW_LOCAL_SOURCES)"
            )

    def check_endpoint(self, endpoint_url: str) -> None:
        if not self.custom_endpoints:
            raise ReachRefused(
                "credentials that name an endpoint_url are not allowed on this installation "
                "(the operator enables them with AUTOLOADER_ALLOW_CUSTOM_ENDPOINTS)"
            )
        if not self.allowed_endpoints:
            return
        parts = urlsplit(endpoint_url if "://" in endpoint_url else f"//{endpoint_url}")
        host = (parts.hostname or "").lower()
        candidates = {host, f"{host}:{parts.port}"} if parts.port else {host}
        if not candidates & {allowed.lower() for allowed in self.allowed_endpoints}:
            raise ReachRefused(
                f"endpoint {host}{f':{parts.port}' if parts.port else ''} is not in the "
                "installation's allowed endpoints"
            )

    def check(self, source: SourceURI, connection: Connection) -> None:
        """Refuses a source, or resolved credentials, this installation does not allow."""
        self.check_source(source)
        endpoint = connection.get("endpoint_url")
        if endpoint:
            self.check_endpoint(endpoint)
