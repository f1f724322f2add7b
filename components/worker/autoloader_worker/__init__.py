"""The worker process: a Prefect worker pulling Autoloader's flow runs from its queues."""
