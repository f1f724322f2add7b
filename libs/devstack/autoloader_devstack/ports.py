"""Loopback ports: a free one for tests, or a fixed one checked before a service starts."""

from __future__ import annotations

import os
import socket

from autoloader_devstack.errors import SetupError

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def is_free(port: int) -> bool:
    """Nothing listens on `port`. Connections of a stopped server lingering in TIME_WAIT do not
    count (servers bind with SO_REUSEADDR, so a restart right after `down` works)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def is_listening(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


def choose_port(service: str, default: int, use_free_ports: bool) -> int:
    """The port a service gets: AUTOLOADER_<SERVICE>_PORT, else a free one or the default.

    A fixed port already in use is a SetupError naming the service and the ways out.
    """
    variable = f"AUTOLOADER_{service.upper().replace('-', '_')}_PORT"
    configured = os.environ.get(variable)
    if configured:
        if not configured.isdigit():
            raise SetupError(f"{variable}={configured!r} is not a port number.")
        port = int(configured)
    elif use_free_ports:
        return free_port()
    else:
        port = default
    if not is_free(port):
        raise SetupError(
            f"Port {port} on {HOST}, wanted by {service}, is already in use.\n"
            f"Stop whatever listens there (see `ss -ltnp 'sport = :{port}'`), "
            f"set {variable} to another port, or run `./dev up --free-ports`."
        )
    return port
