from autoloader_worker.main import build_command


def test_command_names_every_queue_and_the_limit() -> None:
    command = build_command("autoloader", ["default", "priority"], 1, "w1")

    assert command == [
        "worker",
        "start",
        "--pool",
        "autoloader",
        "--type",
        "process",
        "--work-queue",
        "default",
        "--work-queue",
        "priority",
        "--limit",
        "1",
        "--name",
        "w1",
    ]


def test_command_without_queues_pulls_from_the_whole_pool() -> None:
    assert "--work-queue" not in build_command("autoloader", [], None, None)
