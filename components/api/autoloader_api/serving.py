"""Serving the app from several processes, each listening on a socket of its own.

uvicorn's `--workers` share one listening socket, and Linux hands each new connection to
whichever process is waiting in accept: with long-lived keep-alive clients one process can end up
holding nearly all of them (measured here: 48 of 50) while the others idle. Each process here
binds its own socket with SO_REUSEPORT instead, and the kernel spreads connections across them.
The parent only supervises: it replaces a process that dies after it started serving, stops
when one cannot start, and passes SIGTERM and SIGINT on for a graceful shutdown.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import sys
import threading
import time
from multiprocessing.process import BaseProcess
from types import FrameType

import uvicorn
from uvicorn.config import STARTUP_FAILURE

logger = logging.getLogger("autoloader.api")

APP_FACTORY = "autoloader_api.app:create_app"
BACKLOG = 2048  # uvicorn's default
STOP_SECONDS = 30.0


def reuse_port_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    return sock


def serve_one(host: str, port: int, log_level: str) -> None:
    """One serving process (the target of each child). It exits with uvicorn's STARTUP_FAILURE
    when it never started serving, so that the supervisor does not start it again."""
    config = uvicorn.Config(APP_FACTORY, factory=True, host=host, port=port, log_level=log_level)
    server = uvicorn.Server(config)
    try:
        listening = reuse_port_socket(host, port)
    except OSError as error:
        logger.error("cannot listen on %s:%s: %s", host, port, error)
        sys.exit(STARTUP_FAILURE)
    server.run(sockets=[listening])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


class Supervisor:
    """`workers` serving processes on host:port, kept running until SIGTERM or SIGINT."""

    def __init__(self, host: str, port: int, workers: int, log_level: str) -> None:
        self.args = (host, port, log_level)
        self.workers = workers
        self.context = multiprocessing.get_context("spawn")
        self.stopping = threading.Event()
        self.processes: list[BaseProcess] = []

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        self.processes = [self._start() for _ in range(self.workers)]
        status = 0
        while not self.stopping.wait(0.5):
            status = self._replace_the_dead()
            if status:
                break
        self._stop_all()
        return status

    def _start(self) -> BaseProcess:
        process = self.context.Process(target=serve_one, args=self.args, name="autoloader-api")
        process.start()
        return process

    def _replace_the_dead(self) -> int:
        for index, process in enumerate(self.processes):
            if process.is_alive():
                continue
            if process.exitcode == STARTUP_FAILURE:  # it would fail the same way again
                logger.error("a serving process failed to start; stopping")
                return 1
            logger.warning(
                "serving process %s died (exit %s); starting another", process.pid, process.exitcode
            )
            self.processes[index] = self._start()
        return 0

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping.set()

    def _stop_all(self) -> None:
        for process in self.processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + STOP_SECONDS
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()


def serve(host: str, port: int, workers: int, log_level: str) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
    sys.exit(Supervisor(host, port, workers, log_level).run())
