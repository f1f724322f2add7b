import json
from pathlib import Path

import pytest

from autoloader_storage.credentials import resolve
from autoloader_storage.errors import CredentialNotFound
from autoloader_storage.uri import StoreKind

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
