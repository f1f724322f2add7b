"""`autoloader-api --workers N`: each serving process listens on its own SO_REUSEPORT socket, so
long-lived connections spread across them; a process that dies is replaced, and SIGTERM stops
them all."""

from __future__ import annotations

import os
import signal
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_process import ApiProcess, api_environment
from prefect_workers import wait_for
from support import StackFactory


@pytest.fixture(scope="module")
def environment(services: StackFactory, prefect_settings: dict[str, str]) -> dict[str, str]:
    return api_environment(services("prefect"), "it_serving")


def serving_processes(parent: int) -> list[int]:
    """The parent's children that serve (not multiprocessing's resource tracker)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat[1]) == parent and b"multiprocessing.spawn" in command:
            found.append(int(entry))
    return sorted(found)


def serving(api: ApiProcess, count: int) -> list[int]:
    """The API's serving processes once there are `count` of them, else none."""
    found = serving_processes(api.process.pid)
    return found if len(found) == count else []


def without(pids: list[int], gone: int) -> list[int]:
    """`pids` once `gone` is no longer among them, else none."""
    return pids if gone not in pids else []


ESTABLISHED, LISTEN = "01", "0A"  # socket states in /proc/net/tcp


def connections_held(pid: int, port: int, state: str = ESTABLISHED) -> int:
    """How many TCP sockets on `port` in `state` process `pid` holds."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    held = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == state and fields[9] in inodes:
                held += 1
    return held


@pytest.fixture
def clients() -> Iterator[list[socket.socket]]:
    opened: list[socket.socket] = []
    yield opened
    for client in opened:
        client.close()


def test_two_processes_share_the_connections_and_one_that_dies_is_replaced(
    environment: dict[str, str], tmp_path: Path, clients: list[socket.socket]
) -> None:
    api = ApiProcess(environment, tmp_path / "api.log", args=("--workers", "2"))
    try:
        first, second = wait_for(lambda: serving(api, 2), 30, "two serving processes")
        wait_for(  # /ready answered from one; the other may still be starting
            lambda: all(connections_held(pid, api.port, LISTEN) for pid in (first, second)),
            60,
            "both processes listening",
        )
        for _ in range(40):  # keep-alive clients, as a load generator or a proxy holds them
            client = socket.create_connection(("127.0.0.1", api.port), timeout=10)
            client.sendall(b"GET /health HTTP/1.1\r\nHost: api\r\n\r\n")
            assert client.recv(65536).startswith(b"HTTP/1.1 200")
            clients.append(client)
        held = {pid: connections_held(pid, api.port) for pid in (first, second)}
        assert sum(held.values()) == 40 and min(held.values()) >= 5, held

        os.kill(first, signal.SIGKILL)
        replaced = wait_for(
            lambda: without(serving(api, 2), first),
            30,
            "a replacement for the killed process",
        )
        wait_for(
            lambda: httpx.get(f"{api.base_url}/ready", timeout=5).status_code == 200,
            60,
            "the API ready again",
        )
    finally:
        api.stop()
    assert api.process.returncode == 0, api.tail()
    assert all(not Path(f"/proc/{pid}").exists() for pid in replaced), "SIGTERM stops them all"


def test_a_process_that_cannot_start_stops_the_server(
    environment: dict[str, str], tmp_path: Path
) -> None:
    """A port another program holds (without SO_REUSEPORT) fails every start: the server says so
    and exits instead of starting processes forever."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**environment, "AUTOLOADER_API_PORT": str(port)}
        with pytest.raises(RuntimeError, match="exited 1"):
            ApiProcess(env, tmp_path / "api.log", args=("--workers", "2", "--port", str(port)))
        assert "cannot listen on 127.0.0.1" in (tmp_path / "api.log").read_text()
