"""Spark Connect clusters as the API shows them (name and host:port, never a token), and a
connection test: Spark Connect speaks gRPC, so an HTTP/2 server must answer the preface."""

from __future__ import annotations

import asyncio
import ssl
import time
from urllib.parse import urlsplit

# The HTTP/2 client preface and an empty SETTINGS frame (RFC 9113, section 3.4).
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
SETTINGS_FRAME = 0x04


def endpoint_of(remote: str) -> tuple[str, int, bool]:
    """host, port and whether TLS is on, from `sc://host:port/;token=...;use_ssl=true`."""
    address, _, options = remote.partition("/;")
    parts = urlsplit(address.replace("sc://", "http://", 1))
    parameters = dict(p.split("=", 1) for p in options.split(";") if "=" in p)
    secure = parameters.get("use_ssl", "false").lower() == "true" or "token" in parameters
    return parts.hostname or "localhost", parts.port or 15002, secure


async def reachable(remote: str, timeout: float = 5.0) -> tuple[bool, float, str | None]:
    """Whether the cluster's server answers the HTTP/2 preface with SETTINGS in time."""
    host, port, secure = endpoint_of(remote)
    started = time.perf_counter()
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(
                host, port, ssl=ssl.create_default_context() if secure else None
            ),
            timeout,
        )
    except (OSError, TimeoutError) as error:
        reason = "no answer" if isinstance(error, TimeoutError) else type(error).__name__
        return False, time.perf_counter() - started, f"{host}:{port}: {reason}"
    try:
        writer.write(PREFACE)
        await writer.drain()
        header = await asyncio.wait_for(reader.readexactly(9), timeout)
        if header[3] != SETTINGS_FRAME:
            return False, time.perf_counter() - started, f"{host}:{port} does not speak gRPC"
        return True, time.perf_counter() - started, None
    except (OSError, TimeoutError, asyncio.IncompleteReadError) as error:
        return False, time.perf_counter() - started, f"{host}:{port}: {type(error).__name__}"
    finally:
        writer.close()
