"""Autoloader workers as real processes for tests: started with the test's own interpreter,
stopped gracefully, or killed together with the flow runs they started."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class WorkerProcess:
    def __init__(self, env: Mapping[str, str], log: Path, *args: str) -> None:
        self.log = log
        self._out = log.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "autoloader_worker.main", "--metrics-port", "0", *args],
            env={**os.environ, "PYTHONPATH": import_path(), **env},
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def stop(self, timeout: float = 60) -> int:
        """SIGTERM, as Kubernetes sends: the worker drains, then exits."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._out.close()
        return self.process.returncode

    def kill(self) -> list[int]:
        """SIGKILL to the worker and every process under it (its flow runs): a node dying."""
        victims = [self.process.pid, *descendants(self.process.pid)]
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(30)
        return victims

    def tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:]


def import_path() -> str:
    """This test's import path, absolute: flow runs start in a temporary folder of their own."""
    return os.pathsep.join(os.path.abspath(entry) for entry in sys.path if entry)


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, from /proc (children first found, then theirs)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: list[int] = []
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        for child in children.get(current, []):
            found.append(child)
            frontier.append(child)
    return found


def wait_for(
    predicate: Callable[[], T],
    timeout: float,
    what: str,
    every: float = 0.5,
    context: Callable[[], str] | None = None,
) -> T:
    """Polls `predicate` until it returns something true; on timeout, says what and why."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            detail = f"\n{context()}" if context else ""
            raise TimeoutError(f"waited {timeout:.0f} s for {what}{detail}")
        time.sleep(every)
