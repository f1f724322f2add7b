import pytest

from autoloader_storage.errors import AccessDenied, EndpointUnreachable, SourceNotFound, Throttled
from autoloader_storage.retry import call_with_retries, translate
from autoloader_storage.uri import parse_source_uri

SOURCE = parse_source_uri("s3://landing/orders")


class HttpError(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(f"HTTP {code}")
        self.code = code


def test_throttling_is_retried_with_backoff_then_succeeds() -> None:
    calls: list[int] = []
    sleeps: list[float] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise OSError("SlowDown: Please reduce your request rate")
        return "page"

    assert call_with_retries(SOURCE, flaky, sleep=sleeps.append) == "page"
    assert len(calls) == 3 and len(sleeps) == 2 and sleeps[1] > sleeps[0] * 1.0


def test_persistent_throttling_ends_as_throttled() -> None:
    def always() -> None:
        raise HttpError(429)

    with pytest.raises(Throttled, match="s3://landing/orders: the store is throttling"):
        call_with_retries(SOURCE, always, attempts=3, sleep=lambda _: None)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (FileNotFoundError("NoSuchBucket"), SourceNotFound),
        (PermissionError("SignatureDoesNotMatch"), AccessDenied),
        (HttpError(403), AccessDenied),
        (HttpError(404), SourceNotFound),
        (ConnectionRefusedError("Connection refused"), EndpointUnreachable),
    ],
)
def test_store_errors_become_errors_that_name_the_source(error: Exception, kind: type) -> None:
    translated = translate(SOURCE, error)

    assert isinstance(translated, kind)
    assert str(translated).startswith("s3://landing/orders:")


def test_other_errors_are_not_retried() -> None:
    calls: list[int] = []

    def denied() -> None:
        calls.append(1)
        raise PermissionError("AccessDenied")

    with pytest.raises(AccessDenied):
        call_with_retries(SOURCE, denied, sleep=lambda _: None)
    assert len(calls) == 1
