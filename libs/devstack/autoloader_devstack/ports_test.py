import socket

import pytest

from autoloader_devstack.errors import SetupError
from autoloader_devstack.ports import HOST, choose_port, is_free


def test_a_busy_fixed_port_names_the_service_and_the_ways_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as busy:
        busy.bind((HOST, 0))
        busy.listen()
        port = busy.getsockname()[1]
        monkeypatch.setenv("AUTOLOADER_PREFECT_PORT", str(port))

        with pytest.raises(SetupError) as raised:
            choose_port("prefect", 4200, use_free_ports=False)

    message = str(raised.value)
    assert f"Port {port}" in message and "prefect" in message
    assert "AUTOLOADER_PREFECT_PORT" in message and "--free-ports" in message


def test_a_port_setting_that_is_not_a_number_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOLOADER_S3_PORT", "nine-thousand")

    with pytest.raises(SetupError, match="AUTOLOADER_S3_PORT"):
        choose_port("s3", 9000, use_free_ports=False)


def test_free_ports_are_bindable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTOLOADER_GCS_PORT", raising=False)

    port = choose_port("gcs", 9023, use_free_ports=True)

    assert is_free(port)


def test_a_port_whose_server_just_stopped_is_free_again() -> None:
    # The side that closes first keeps the connection in TIME_WAIT on the server's port. Servers
    # (PostgreSQL, MinIO, uvicorn) set SO_REUSEADDR, and so their connections have it too.
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((HOST, 0))
        server.listen()
        port = server.getsockname()[1]
        client = socket.create_connection((HOST, port))
        accepted, _ = server.accept()
        accepted.close()
        client.close()
    assert is_free(port)
