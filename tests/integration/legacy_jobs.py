"""The jobs of an imagined APScheduler-era Autoloader, for the job stores tests build."""


def run_ingestion(ingestion_id: str) -> None:
    raise AssertionError("the old scheduler never runs in tests")


def nightly_report() -> None:
    raise AssertionError("the old scheduler never runs in tests")
