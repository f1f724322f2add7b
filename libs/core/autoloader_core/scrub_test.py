import logging

import pytest

from autoloader_core.scrub import ScrubFilter, scrub

SIG = "sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2026-12-31T00:00:00Z&spr=https&sig=Abc%2BdefSecret%3D"
AZURE_REQUESTS = (
    "azure.core.exceptions.ServiceRequestError: HTTPSConnectionPool(host='acct.blob.core."
    "windows.net', port=443): Max retries exceeded with url: /landing?restype=container&comp=list&"
    f"{SIG} (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection object at 0x7f>: "
    "Failed to establish a new connection: [Errno 111] Connection refused'))"
)
AZURE_AIOHTTP = (
    "Cannot connect to host acct.blob.core.windows.net:443 ssl:default [Connection refused] "
    f"while requesting https://acct.blob.core.windows.net/landing?{SIG}"
)
AZURE_CONNECTION_STRING = (
    "ValueError: Connection string is either blank or malformed: DefaultEndpointsProtocol=https;"
    "AccountName=acct;AccountKey=Zm9vYmFyU2VjcmV0S2V5VmFsdWU9PQ==;"
    "SharedAccessSignature=sv=2022&sig=SecretSig;EndpointSuffix=core.windows.net"
)
BOTO_PRESIGNED = (
    "botocore.exceptions.ClientError: An error occurred (AccessDenied) when calling the GetObject"
    " operation: https://bucket.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&"
    "X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261203%2Fus-east-1%2Fs3%2Faws4_request&"
    "X-Amz-Date=20261203T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&"
    "X-Amz-Security-Token=FwoGZXIvYXdzESecretToken&X-Amz-Signature=0123456789abcdefSecret"
)
BOTO_CONFIG = (
    "botocore.exceptions.PartialCredentialsError: Partial credentials found in env, "
    "aws_access_key_id=AKIAIOSFODNN7EXAMPLE aws_secret_access_key='wJalrXUtnFEMIK7MDENGSecret'"
)
BOTO_HEADER = (
    "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261203/us-east-1/s3/"
    "aws4_request, SignedHeaders=host;x-amz-date, "
    "Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
)
GCS_TOKEN = (
    "gcsfs.retry.HttpError: Invalid Credentials, 401 for https://storage.googleapis.com/storage/"
    "v1/b/bkt/o?prefix=in%2F&access_token=ya29.a0AfH6SMBxSecretToken123 "
    "(headers: {'Authorization': 'Bearer ya29.a0AfH6SMBxSecretToken123'})"
)
GCS_KEY = (
    "google.auth.exceptions.MalformedError: Service account info was not in the expected format,"
    ' missing fields client_email. {"type": "service_account", "private_key_id": "abc123secret",'
    ' "private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvSecretMaterial\\n-----END PRIVATE KEY-----\\n"}'
)


@pytest.mark.parametrize(
    ("text", "secrets", "kept"),
    [
        (AZURE_REQUESTS, ["Abc%2BdefSecret"], ["Max retries exceeded", "se=2026-12-31", "sp=rl"]),
        (AZURE_AIOHTTP, ["Abc%2BdefSecret"], ["Connection refused", "acct.blob.core.windows.net"]),
        (
            AZURE_CONNECTION_STRING,
            ["Zm9vYmFyU2VjcmV0S2V5VmFsdWU9PQ", "SecretSig"],
            ["AccountName=acct", "EndpointSuffix"],
        ),
        (
            BOTO_PRESIGNED,
            ["0123456789abcdefSecret", "FwoGZXIvYXdzESecretToken", "IOSFODNN7EXAMPLE"],
            ["AccessDenied", "X-Amz-Expires=3600"],
        ),
        (BOTO_CONFIG, ["wJalrXUtnFEMIK7MDENGSecret", "IOSFODNN7EXAMPLE"], ["Partial credentials"]),
        (BOTO_HEADER, ["fe5f80f77d5fa3beca038a248ff027d04", "IOSFODNN7EXAMPLE"], ["SignedHeaders"]),
        (GCS_TOKEN, ["SecretToken123"], ["Invalid Credentials, 401", "prefix=in%2F"]),
        (GCS_KEY, ["MIIEvSecretMaterial", "abc123secret"], ["missing fields client_email"]),
    ],
)
def test_secrets_leave_and_the_rest_stays(text: str, secrets: list[str], kept: list[str]) -> None:
    scrubbed = scrub(text)
    for secret in secrets:
        assert secret not in scrubbed, scrubbed
    for words in kept:
        assert words in scrubbed, scrubbed
    assert scrub(scrubbed) == scrubbed  # idempotent


def test_plain_text_is_untouched() -> None:
    text = "FAILED_READ_FILE.NO_HINT: java.io.EOFException: s3a://landing/in/a.csv?x=1"
    assert scrub(text) == text


def test_log_records_are_scrubbed_before_any_handler_sees_them() -> None:
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "listing failed: %s", (AZURE_REQUESTS,), None
    )
    try:
        raise RuntimeError(AZURE_AIOHTTP)
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    assert ScrubFilter().filter(record)
    assert "Abc%2BdefSecret" not in record.getMessage()
    assert (
        record.exc_text
        and "Abc%2BdefSecret" not in record.exc_text
        and "RuntimeError" in record.exc_text
    )
