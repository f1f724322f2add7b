"""Every secret a connection hands Spark is one Spark's session redaction hides: the Connect
tab prints a read's options as protobuf text, and explained plans print them as options."""

import re

import pytest

from autoloader_spark.session import REDACTION
from autoloader_storage.credentials import SECRET_FIELDS, resolve
from autoloader_storage.uri import StoreKind, parse_source_uri

SECRETS = {
    "secret_access_key": "S3-SECRET-1",
    "session_token": "S3-TOKEN-2",
    "account_key": "AZ-KEY-3==",
    "sas_token": "sv=1&sig=AZ-SAS-4",
}
CASES = [
    (
        StoreKind.S3,
        "s3://bucket-1/in",
        {
            "X_ACCESS_KEY_ID": "AKIA",
            "X_SECRET_ACCESS_KEY": "S3-SECRET-1",
            "X_SESSION_TOKEN": "S3-TOKEN-2",
        },
    ),
    (
        StoreKind.AZURE,
        "abfss://inbox@acme01.dfs.core.windows.net/in",
        {"X_ACCOUNT_KEY": "AZ-KEY-3=="},
    ),
    (
        StoreKind.AZURE,
        "abfss://inbox@acme01.dfs.core.windows.net/in",
        {"X_SAS_TOKEN": "sv=1&sig=AZ-SAS-4"},
    ),
]


def as_proto_text(settings: dict[str, str]) -> str:
    """Options as Spark Connect's plan prints them (`ProtoUtils.abbreviate(plan).toString`)."""
    return "".join(
        f'options {{\n  key: "{key}"\n  value: "{value}"\n}}\n' for key, value in settings.items()
    )


@pytest.mark.parametrize(("kind", "uri", "environ"), CASES)
def test_each_secret_setting_is_redacted_in_the_connect_tab_and_in_plans(
    kind: StoreKind, uri: str, environ: dict[str, str]
) -> None:
    connection = resolve("env:X", kind, environ)
    settings = connection.spark_settings(parse_source_uri(uri))
    secret_values = {getattr(connection, f) for f in SECRET_FIELDS if hasattr(connection, f)}
    secret_values.discard(None)
    secret_keys = [k for k, v in settings.items() if v.lstrip("?") in secret_values]
    assert secret_keys, "the case should hand Spark a secret"

    string_pattern = REDACTION["spark.sql.redaction.string.regex"]
    redacted = re.sub(string_pattern, "*********(redacted)", as_proto_text(settings))
    option_pattern = re.compile(REDACTION["spark.sql.redaction.options.regex"])

    for value in SECRETS.values():
        assert value not in redacted
    assert all(option_pattern.search(key) for key in secret_keys)
