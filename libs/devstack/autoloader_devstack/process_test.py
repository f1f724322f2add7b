import signal
import sys
import time
from pathlib import Path

import pytest

from autoloader_devstack import process
from autoloader_devstack.errors import SetupError

# A parent that ignores SIGTERM and a child of its own: stop() must still end both.
STUBBORN = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
print(child.pid, flush=True)
time.sleep(600)
"""


def test_stop_ends_the_whole_process_group_even_when_it_ignores_sigterm(tmp_path: Path) -> None:
    log = tmp_path / "stubborn.log"
    managed = process.start("stubborn", [sys.executable, "-c", STUBBORN], log)
    process.wait_until(managed, lambda: log.read_text().strip() != "", 10, "child started")

    managed.stop(timeout=1)

    assert not managed.is_running()


def test_a_service_that_dies_while_starting_reports_its_log(tmp_path: Path) -> None:
    managed = process.start(
        "broken",
        [sys.executable, "-c", "print('bad config: port'); raise SystemExit(3)"],
        tmp_path / "broken.log",
    )

    with pytest.raises(SetupError, match=r"(?s)broken exited before being ready.*bad config: port"):
        process.wait_until(managed, lambda: False, 10, "being ready")


def test_a_missing_program_is_a_setup_error(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match="cannot run"):
        process.start("ghost", ["/nonexistent/ghost"], tmp_path / "ghost.log")


def test_records_survive_a_round_trip(tmp_path: Path) -> None:
    managed = process.start(
        "sleeper",
        [sys.executable, "-c", "import time; time.sleep(30)"],
        tmp_path / "s.log",
        stop_signal=signal.SIGINT,
    )
    restored = process.ManagedProcess.from_record(managed.to_record())
    try:
        assert restored == managed and restored.is_running()
    finally:
        restored.stop(timeout=5)
    time.sleep(0.1)
    assert not managed.is_running()
