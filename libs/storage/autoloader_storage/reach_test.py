import pytest

from autoloader_storage.credentials import S3Connection
from autoloader_storage.errors import ReachRefused, SparkAccessRefused
from autoloader_storage.reach import ReachPolicy
from autoloader_storage.uri import parse_source_uri

S3 = parse_source_uri("s3://landing/orders")


def minio(endpoint: str) -> S3Connection:
    return S3Connection(reference="env:MINIO", endpoint_url=endpoint)


def test_local_sources_need_the_operator() -> None:
    local = parse_source_uri("file:///data/in")
    ReachPolicy(local_sources=True).check_source(local)
    with pytest.raises(ReachRefused, match="file:// sources are not allowed"):
        ReachPolicy(local_sources=False).check_source(local)


def test_custom_endpoints_need_the_operator() -> None:
    with pytest.raises(ReachRefused, match="endpoint_url are not allowed"):
        ReachPolicy(custom_endpoints=False).check(S3, minio("http://minio:9000"))
    ReachPolicy(custom_endpoints=False).check(S3, S3Connection())


@pytest.mark.parametrize("allowed", [["minio"], ["minio:9000"], ["MINIO"]])
def test_an_allow_list_admits_its_hosts(allowed: list[str]) -> None:
    ReachPolicy(allowed_endpoints=allowed).check(S3, minio("http://minio:9000"))


@pytest.mark.parametrize("endpoint", ["http://169.254.169.254", "http://minio:9001", "evil:9000"])
def test_an_allow_list_refuses_other_hosts(endpoint: str) -> None:
    with pytest.raises(ReachRefused, match="not in the installation's allowed endpoints"):
        ReachPolicy(allowed_endpoints=["minio:9000"]).check(S3, minio(endpoint))


def test_a_default_credential_reads_through_spark_only_where_the_operator_bound_the_cluster() -> (
    None
):
    policy = ReachPolicy(cluster_identities={"default": ["s3://landing-*"]})
    bound = parse_source_uri("s3://landing-eu/orders")

    assert policy.spark_access(bound, S3Connection()) == {}
    with pytest.raises(SparkAccessRefused, match="has not bound Spark cluster 'default'"):
        policy.spark_access(S3, S3Connection())  # s3://landing/orders: not landing-*
    with pytest.raises(SparkAccessRefused, match="cluster 'other'"):
        policy.spark_access(bound, S3Connection(), cluster="other")


def test_a_named_credential_reads_through_spark_with_its_own_identity() -> None:
    connection = S3Connection(
        reference="env:MINIO", access_key_id="k", secret_access_key="s", endpoint_url="http://m:9"
    )

    settings = ReachPolicy().spark_access(S3, connection)

    assert settings["fs.s3a.bucket.landing.access.key"] == "k"
    with pytest.raises(ReachRefused, match="endpoint_url are not allowed"):
        ReachPolicy(custom_endpoints=False).spark_access(S3, connection)
