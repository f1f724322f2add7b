"""What an ingestion may make a worker or Spark read: local paths and custom endpoints only
when the operator allows them, and endpoints only from the operator's allow-list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from urllib.parse import urlsplit

from autoloader_core.settings import Settings
from autoloader_storage.credentials import Connection
from autoloader_storage.errors import ReachRefused, SparkAccessRefused
from autoloader_storage.uri import SourceURI, StoreKind


@dataclass(frozen=True)
class ReachPolicy:
    local_sources: bool = True
    custom_endpoints: bool = True
    allowed_endpoints: Sequence[str] = ()
    # Per Spark cluster, the source URI patterns its own identity is for (the operator's word).
    cluster_identities: Mapping[str, Sequence[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, settings: Settings) -> ReachPolicy:
        return cls(
            local_sources=settings.local_sources_allowed,
            custom_endpoints=settings.custom_endpoints_allowed,
            allowed_endpoints=tuple(settings.allowed_endpoints),
            cluster_identities=settings.cluster_identities,
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
        endpoint = connection.endpoint_url
        if endpoint:
            self.check_endpoint(endpoint)

    def spark_access(
        self, source: SourceURI, connection: Connection, cluster: str = "default"
    ) -> dict[str, str]:
        """The Hadoop settings one Spark read of `source` takes: the connection's own identity,
        or none where the operator bound the cluster's identity to the source and the
        credential is `default`. A `default` credential anywhere else is refused: Spark would
        read with whatever its cluster may read, not with anything the tenant was given."""
        self.check(source, connection)
        self.check_default_credential(source, connection.reference, cluster)
        if source.kind is StoreKind.LOCAL or connection.is_default:
            return {}
        return connection.spark_settings(source)

    def check_default_credential(
        self, source: SourceURI, reference: str | None, cluster: str = "default"
    ) -> None:
        """Refuses a `default` credential on a store source the operator did not bind to the
        cluster's own identity."""
        if source.kind is StoreKind.LOCAL or (reference or "default").strip() != "default":
            return
        location = source.uri_of(source.prefix)
        if any(fnmatchcase(location, p) for p in self.cluster_identities.get(cluster, ())):
            return
        raise SparkAccessRefused(
            f"credential default: the operator has not bound Spark cluster {cluster!r}'s "
            f"own identity to {location} (AUTOLOADER_CLUSTER_IDENTITIES); name the "
            "ingestion's credential (env:NAME or file:/path/secret.json)"
        )
