import pytest
from autoloader_orchestration.queues import QueueNames, RunKind, choose_queue

QUEUES = QueueNames("priority", "default", "high-memory")
GB = 1024**3


@pytest.mark.parametrize("kind", [RunKind.MANUAL, RunKind.RETRY, RunKind.PREVIEW])
def test_manual_runs_retries_and_previews_go_to_priority(kind: RunKind) -> None:
    assert (
        choose_queue(kind, QUEUES, pending_bytes=100 * GB, high_memory_threshold=GB) == "priority"
    )


def test_a_large_backlog_goes_to_high_memory() -> None:
    assert choose_queue(RunKind.SCHEDULED, QUEUES, 11 * GB, 10 * GB) == "high-memory"
    assert choose_queue(RunKind.SCHEDULED, QUEUES, 10 * GB, 10 * GB) == "default"


def test_an_explicit_override_wins_over_everything() -> None:
    assert choose_queue(RunKind.MANUAL, QUEUES, override="gpu") == "gpu"
    assert choose_queue(RunKind.SCHEDULED, QUEUES, 99 * GB, GB, override="gpu") == "gpu"
