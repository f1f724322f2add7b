"""A service process: started in its own session with its log captured, stopped as a group."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from autoloader_devstack.errors import SetupError


@dataclass
class ManagedProcess:
    name: str
    pid: int
    log_path: Path
    stop_signal: int = signal.SIGTERM

    def to_record(self) -> dict[str, object]:
        return {
            "name": self.name,
            "pid": self.pid,
            "log": str(self.log_path),
            "stop_signal": int(self.stop_signal),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, object]) -> ManagedProcess:
        return cls(
            name=str(record["name"]),
            pid=int(str(record["pid"])),
            log_path=Path(str(record["log"])),
            stop_signal=signal.Signals(int(str(record["stop_signal"]))),
        )

    def is_running(self) -> bool:
        """True while any process of the group lives (an exited child of ours is reaped first)."""
        _reap(self.pid)
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, timeout: float = 20.0) -> None:
        """Signals the whole process group, then kills what is left after the timeout."""
        if not self.is_running():
            return
        _signal_group(self.pid, self.stop_signal)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_running():
                return
            time.sleep(0.2)
        _signal_group(self.pid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while self.is_running() and time.monotonic() < deadline:
            time.sleep(0.1)


def start(
    name: str,
    command: Sequence[str],
    log_path: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stop_signal: int = signal.SIGTERM,
) -> ManagedProcess:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        try:
            popen = subprocess.Popen(
                list(command),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
            )
        except FileNotFoundError as error:
            raise SetupError(f"{name}: cannot run {command[0]!r}: {error}") from error
    return ManagedProcess(name=name, pid=popen.pid, log_path=log_path, stop_signal=stop_signal)


def wait_until(
    process: ManagedProcess, ready: Callable[[], bool], timeout: float, what: str
) -> None:
    """Polls `ready` until it holds; a process that dies or a deadline passed is a SetupError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if not process.is_running():
            raise SetupError(
                f"{process.name} exited before {what}. Last lines of {process.log_path}:\n"
                f"{process.log_tail()}"
            )
        time.sleep(0.25)
    raise SetupError(
        f"{process.name}: {what} did not happen within {timeout:.0f} s. "
        f"Last lines of {process.log_path}:\n{process.log_tail()}"
    )


def run(
    command: Sequence[str],
    what: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 1800,
) -> str:
    """Runs a provisioning or setup command; a failure is a SetupError with its output."""
    try:
        result = subprocess.run(
            list(command),
            capture_output=True,
            text=True,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as error:
        raise SetupError(f"{what}: cannot run {command[0]!r} ({error}).") from error
    except subprocess.TimeoutExpired as error:
        raise SetupError(f"{what}: no answer after {timeout:.0f} s.") from error
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-25:]
        raise SetupError(f"{what} failed (exit {result.returncode}):\n" + "\n".join(output))
    return result.stdout


def _signal_group(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)


def _reap(pid: int) -> None:
    """Collects the exit status of a child we started, so it does not linger as a zombie."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
