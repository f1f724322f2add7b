import pytest

from autoloader_storage.errors import InvalidSourceURI, UnsupportedScheme
from autoloader_storage.uri import SourceURI, StoreKind, parse_source_uri


@pytest.mark.parametrize(
    ("uri", "expected", "spark"),
    [
        (
            "s3://landing/orders/",
            SourceURI(StoreKind.S3, "landing", "orders"),
            "s3a://landing/orders",
        ),
        ("s3a://landing", SourceURI(StoreKind.S3, "landing", ""), "s3a://landing/"),
        (
            "abfss://raw@acme01.dfs.core.windows.net/events/2026",
            SourceURI(StoreKind.AZURE, "raw", "events/2026", "acme01"),
            "abfss://raw@acme01.dfs.core.windows.net/events/2026",
        ),
        (
            "abfs://raw@acme01.blob.core.windows.net/x",
            SourceURI(StoreKind.AZURE, "raw", "x", "acme01"),
            "abfss://raw@acme01.dfs.core.windows.net/x",
        ),
        ("gs://my_bucket/a/b", SourceURI(StoreKind.GCS, "my_bucket", "a/b"), "gs://my_bucket/a/b"),
        ("gcs://my-bucket/a", SourceURI(StoreKind.GCS, "my-bucket", "a"), "gs://my-bucket/a"),
        ("file:///data/in/", SourceURI(StoreKind.LOCAL, "", "/data/in"), "file:///data/in"),
    ],
)
def test_source_uris_parse_and_give_sparks_path(uri: str, expected: SourceURI, spark: str) -> None:
    source = parse_source_uri(uri)

    assert source == expected
    assert source.spark_path() == spark


def test_az_uris_need_the_account_for_spark_only() -> None:
    source = parse_source_uri("az://raw/events")

    assert (source.bucket, source.prefix, source.account) == ("raw", "events", None)
    with pytest.raises(InvalidSourceURI, match="Spark needs the storage account"):
        source.spark_path()
    assert source.with_account("acme01").spark_path("events/a.json") == (
        "abfss://raw@acme01.dfs.core.windows.net/events/a.json"
    )


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("landing/orders", "is not a URI"),
        ("s3:///orders", "the bucket name is missing"),
        ("s3://Bad_Bucket/x", "is not a valid bucket name"),
        ("s3://bucket/a/../b", "may not contain"),
        ("s3://bucket/x?versionId=1", "takes no query"),
        ("file://relative/path", "file:///absolute/path"),
        ("abfss://raw@acme.example.com/x", "expected container@account.dfs.core.windows.net"),
        ("abfss://@acme01.dfs.core.windows.net/x", "the container name is missing"),
        ("abfss://Raw@acme01.dfs.core.windows.net/x", "is not a valid container name"),
    ],
)
def test_bad_uris_say_what_is_wrong(uri: str, message: str) -> None:
    with pytest.raises(InvalidSourceURI, match=message):
        parse_source_uri(uri)


def test_an_unknown_scheme_lists_the_supported_ones() -> None:
    with pytest.raises(UnsupportedScheme, match=r"unsupported scheme 'ftp'.*abfss.*s3a"):
        parse_source_uri("ftp://host/path")
