import asyncio

import pytest
from prefect.workers.process import ProcessWorker

from autoloader_core.settings import Settings
from autoloader_worker.main import parse_args
from autoloader_worker.metrics import status_label
from autoloader_worker.runner import draining_worker


def test_options_name_every_queue_and_the_limit() -> None:
    options = parse_args(
        ["--queue", "default", "--queue", "priority", "--limit", "1", "--name", "w1"], Settings()
    )

    assert options.queues == ["default", "priority"]
    assert options.limit == 1
    assert options.name == "w1"
    assert options.pool == "autoloader"
    assert options.reconcile is True


def test_ingestion_gauges_are_exported_unless_turned_off() -> None:
    assert parse_args([], Settings()).ingestion_metrics is True
    assert parse_args(["--no-ingestion-metrics"], Settings()).ingestion_metrics is False


def test_without_queues_the_worker_pulls_from_the_whole_pool() -> None:
    assert parse_args([], Settings()).queues == []


def test_a_limit_below_one_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--limit", "0"], Settings())
    assert "--limit must be at least 1" in capsys.readouterr().err


def test_a_draining_worker_takes_no_new_runs() -> None:
    worker = draining_worker(ProcessWorker)(work_pool_name="autoloader")
    worker.drain()

    # No API is reachable here: a worker that still polled would fail, not return nothing.
    assert asyncio.run(worker.get_and_submit_flow_runs()) == []


def test_state_names_become_metric_labels() -> None:
    assert status_label("Completed with failures") == "completed_with_failures"
    assert status_label(None) == "unknown"


def test_the_process_worker_still_has_the_switch_that_skips_its_workspace_supervisor() -> None:
    from prefect.workers.process import ProcessJobConfiguration

    from autoloader_worker.runner import start_engine_directly

    configuration = ProcessJobConfiguration(command="python -m prefect.engine")
    assert configuration._command_configured is False
    start_engine_directly(configuration)
    assert configuration._command_configured is True
