import pytest

from autoloader_storage.credentials import Connection
from autoloader_storage.errors import ReachRefused
from autoloader_storage.reach import ReachPolicy
from autoloader_storage.uri import StoreKind, parse_source_uri

S3 = parse_source_uri("s3://landing/orders")


def minio(endpoint: str) -> Connection:
    return Connection(StoreKind.S3, "env:MINIO", {"endpoint_url": endpoint})


def test_local_sources_need_the_operator() -> None:
    local = parse_source_uri("file:///data/in")
    ReachPolicy(local_sources=True).check_source(local)
    with pytest.raises(ReachRefused, match="file:// sources are not allowed"):
        ReachPolicy(local_sources=False).check_source(local)


def test_custom_endpoints_need_the_operator() -> None:
    with pytest.raises(ReachRefused, match="endpoint_url are not allowed"):
        ReachPolicy(custom_endpoints=False).check(S3, minio("http://minio:9000"))
    ReachPolicy(custom_endpoints=False).check(S3, Connection(StoreKind.S3, "default"))


@pytest.mark.parametrize("allowed", [["minio"], ["minio:9000"], ["MINIO"]])
def test_an_allow_list_admits_its_hosts(allowed: list[str]) -> None:
    ReachPolicy(allowed_endpoints=allowed).check(S3, minio("http://minio:9000"))


@pytest.mark.parametrize("endpoint", ["http://169.254.169.254", "http://minio:9001", "evil:9000"])
def test_an_allow_list_refuses_other_hosts(endpoint: str) -> None:
    with pytest.raises(ReachRefused, match="not in the installation's allowed endpoints"):
        ReachPolicy(allowed_endpoints=["minio:9000"]).check(S3, minio(endpoint))
