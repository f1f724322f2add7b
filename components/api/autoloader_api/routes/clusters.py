"""/api/v1/clusters: the configured Spark Connect clusters, and a connection test."""

from __future__ import annotations

from autoloader_metadata.errors import NotFound
from fastapi import APIRouter

from autoloader_api.auth import Reader, Writer
from autoloader_api.clusters import endpoint_of, reachable
from autoloader_api.routes.common import ServicesDep, errors
from autoloader_api.schemas import ClusterOut, ClusterTest

router = APIRouter(prefix="/api/v1/clusters", tags=["clusters"])


@router.get("", responses=errors())
async def list_clusters(principal: Reader, services: ServicesDep) -> list[ClusterOut]:
    settings = services.settings
    items = []
    for name in settings.cluster_names:
        host, port, _ = endpoint_of(settings.spark_remote_of(name))
        items.append(ClusterOut(name=name, endpoint=f"{host}:{port}"))
    return items


@router.post("/{name}/test", responses=errors())
async def test_cluster(name: str, principal: Writer, services: ServicesDep) -> ClusterTest:
    """Opens a gRPC connection to the cluster's Spark Connect server."""
    if name not in services.settings.cluster_names:
        raise NotFound(f"cluster {name!r} is not configured")
    ok, seconds, error = await reachable(services.settings.spark_remote_of(name))
    return ClusterTest(name=name, reachable=ok, seconds=round(seconds, 3), error=error)
