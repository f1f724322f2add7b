import json
from pathlib import Path

import pytest

from autoloader_storage.azure import container_client
from autoloader_storage.credentials import resolve
from autoloader_storage.errors import CredentialNotFound, SparkAccessRefused
from autoloader_storage.uri import StoreKind, parse_source_uri

ENV = {
    "SALES_ACCESS_KEY_ID": "AKIAEXAMPLE",
    "SALES_SECRET_ACCESS_KEY": "very-secret",
    "SALES_ENDPOINT_URL": "http://127.0.0.1:9000",
}


def test_env_reference_becomes_s3fs_options() -> None:
    connection = resolve("env:SALES", StoreKind.S3, ENV)

    assert connection.fsspec_options() == {
        "anon": False,
        "key": "AKIAEXAMPLE",
        "secret": "very-secret",
        "client_kwargs": {"endpoint_url": "http://127.0.0.1:9000"},
    }


def test_secrets_never_show_in_the_repr() -> None:
    shown = repr(resolve("env:SALES", StoreKind.S3, ENV))

    assert "very-secret" not in shown
    assert "AKIAEXAMPLE" in shown and "***" in shown


def test_a_mounted_secret_file_is_read(tmp_path: Path) -> None:
    secret = tmp_path / "azure.json"
    secret.write_text(json.dumps({"account_name": "acme01", "account_key": "k=="}))

    options = resolve(f"file:{secret}", StoreKind.AZURE, {}).fsspec_options()

    assert options == {"account_name": "acme01", "account_key": "k=="}


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("env:NOPE", "env:NOPE names nothing: none of NOPE_ACCESS_KEY_ID"),
        ("file:/nonexistent/secret.json", "no file at /nonexistent/secret.json"),
        ("vault:secret/x", "write default, anonymous, env:NAME or file:"),
    ],
)
def test_a_credential_that_names_nothing_is_refused(reference: str, message: str) -> None:
    with pytest.raises(CredentialNotFound, match=message):
        resolve(reference, StoreKind.S3, {})


def test_a_secret_file_without_known_fields_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "s.json"
    secret.write_text(json.dumps({"password": "x"}))

    with pytest.raises(CredentialNotFound, match="has none of the fields"):
        resolve(f"file:{secret}", StoreKind.GCS, {})


def test_default_and_anonymous_need_no_lookup() -> None:
    assert resolve(None, StoreKind.GCS, {}).fsspec_options() == {"token": "google_default"}
    assert resolve("anonymous", StoreKind.GCS, {}).fsspec_options() == {"token": "anon"}
    assert resolve("anonymous", StoreKind.S3, {}).fsspec_options() == {"anon": True}


def test_spark_reads_an_s3_bucket_with_the_credential_and_no_shared_filesystem() -> None:
    source = parse_source_uri("s3://sales-eu/orders")
    connection = resolve("env:SALES", StoreKind.S3, {**ENV, "SALES_SESSION_TOKEN": "tok"})

    settings = connection.spark_settings(source)

    bucket = "fs.s3a.bucket.sales-eu."
    assert settings == {
        "fs.s3a.impl.disable.cache": "true",
        f"{bucket}access.key": "AKIAEXAMPLE",
        f"{bucket}secret.key": "very-secret",
        f"{bucket}session.token": "tok",
        f"{bucket}aws.credentials.provider": (
            "org.apache.hadoop.fs.s3a.TemporaryAWSCredentialsProvider"
        ),
        f"{bucket}endpoint": "http://127.0.0.1:9000",
        f"{bucket}path.style.access": "true",
        f"{bucket}connection.ssl.enabled": "false",
    }


def test_an_s3_credential_without_an_endpoint_reads_aws_not_the_clusters_endpoint() -> None:
    environ = {"X_ACCESS_KEY_ID": "AKIA1", "X_SECRET_ACCESS_KEY": "s"}

    settings = resolve("env:X", StoreKind.S3, environ).spark_settings(
        parse_source_uri("s3://b-1/x")
    )

    assert settings["fs.s3a.bucket.b-1.endpoint"] == ""
    assert "fs.s3a.bucket.b-1.path.style.access" not in settings


def test_an_azure_credential_for_another_account_is_refused_for_listing_and_spark() -> None:
    source = parse_source_uri("abfss://inbox@acme01.dfs.core.windows.net/data")
    connection = resolve(
        "env:AZ",
        StoreKind.AZURE,
        {"AZ_CONNECTION_STRING": "AccountName=other01;AccountKey=k==;EndpointSuffix=x"},
    )

    with pytest.raises(CredentialNotFound, match="for the storage account 'other01'"):
        connection.spark_settings(source)
    with pytest.raises(CredentialNotFound, match="for the storage account 'other01'"):
        container_client(source, connection)


def test_an_azure_key_and_a_sas_token_become_abfs_settings_of_that_account() -> None:
    source = parse_source_uri("abfss://inbox@acme01.dfs.core.windows.net/data")
    host = "acme01.dfs.core.windows.net"

    by_key = resolve("env:AZ", StoreKind.AZURE, {"AZ_ACCOUNT_KEY": "k=="}).spark_settings(source)
    by_sas = resolve("env:AZ", StoreKind.AZURE, {"AZ_SAS_TOKEN": "?sv=1&sig=s"}).spark_settings(
        source
    )

    assert by_key[f"fs.azure.account.key.{host}"] == "k=="
    assert by_key["fs.abfss.impl.disable.cache"] == "true"
    assert by_sas[f"fs.azure.account.auth.type.{host}"] == "SAS"
    assert by_sas[f"fs.azure.sas.fixed.token.{host}"] == "sv=1&sig=s"


@pytest.mark.parametrize(
    ("kind", "environ", "message"),
    [
        (StoreKind.S3, {"X_ENDPOINT_URL": "http://minio:9000"}, "needs an access key"),
        (StoreKind.AZURE, {"X_ACCOUNT_NAME": "acme01"}, "account key or a SAS token"),
        (StoreKind.GCS, {"X_SERVICE_ACCOUNT_FILE": "/s/key.json"}, "not on Spark's machines"),
    ],
)
def test_an_identity_spark_cannot_be_given_is_refused_with_its_reason(
    kind: StoreKind, environ: dict[str, str], message: str
) -> None:
    uri = {
        StoreKind.S3: "s3://bucket-1/x",
        StoreKind.AZURE: "abfss://inbox@acme01.dfs.core.windows.net/x",
        StoreKind.GCS: "gs://bucket-1/x",
    }[kind]

    with pytest.raises(SparkAccessRefused, match=message):
        resolve("env:X", kind, environ).spark_settings(parse_source_uri(uri))


def test_no_secret_shows_in_the_repr_of_any_store() -> None:
    azure = resolve(
        "env:AZ", StoreKind.AZURE, {"AZ_CONNECTION_STRING": "AccountName=a1;AccountKey=k2=="}
    )

    assert "k2==" not in repr(azure) and "a1" in repr(azure)
