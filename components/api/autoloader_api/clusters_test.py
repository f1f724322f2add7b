import asyncio

import pytest

from autoloader_api.clusters import endpoint_of, reachable


@pytest.mark.parametrize(
    ("remote", "endpoint"),
    [
        ("sc://spark:15002", ("spark", 15002, False)),
        ("sc://spark", ("spark", 15002, False)),
        ("sc://spark.example.com:443/;token=SECRET;user_id=x", ("spark.example.com", 443, True)),
        ("sc://10.0.0.5:15002/;use_ssl=true", ("10.0.0.5", 15002, True)),
    ],
)
def test_the_endpoint_is_read_without_the_token(
    remote: str, endpoint: tuple[str, int, bool]
) -> None:
    assert endpoint_of(remote) == endpoint


def test_a_closed_port_is_reported_unreachable() -> None:
    ok, _, error = asyncio.run(reachable("sc://127.0.0.1:9", timeout=2))
    assert not ok and error and "127.0.0.1:9" in error


def test_a_server_that_is_not_grpc_is_reported() -> None:
    async def scenario() -> tuple[bool, float, str | None]:
        async def http1(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.read(100)
            writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(http1, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            return await reachable(f"sc://127.0.0.1:{port}", timeout=2)

    ok, _, error = asyncio.run(scenario())
    assert not ok and error and "does not speak gRPC" in error
