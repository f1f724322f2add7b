import uuid

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from autoloader_migrate.apscheduler_jobs import LegacyJob, UnsupportedSchedule, cron_of


def test_a_crontab_comes_back_as_the_same_cron_and_timezone() -> None:
    trigger = CronTrigger.from_crontab("*/5 9-17 * * mon-fri", timezone="Europe/Paris")
    assert cron_of(trigger) == ("*/5 9-17 * * mon-fri", "Europe/Paris")


def test_numbered_weekdays_count_from_monday_in_apscheduler() -> None:
    # APScheduler 0-4 is Monday to Friday; in cron 0-4 would be Sunday to Thursday.
    assert cron_of(CronTrigger(day_of_week="0-4", hour=3, timezone="UTC")) == (
        "0 3 * * mon-fri",
        "UTC",
    )


def test_even_intervals_become_crons() -> None:
    assert cron_of(IntervalTrigger(minutes=15, timezone="UTC"))[0] == "*/15 * * * *"
    assert cron_of(IntervalTrigger(hours=6, timezone="UTC"))[0] == "0 */6 * * *"
    assert cron_of(IntervalTrigger(days=1, timezone="UTC"))[0] == "0 0 * * *"


@pytest.mark.parametrize(
    "trigger",
    [
        IntervalTrigger(minutes=7, timezone="UTC"),
        CronTrigger(second="30", timezone="UTC"),
        DateTrigger(run_date="2030-01-01 00:00:00", timezone="UTC"),
    ],
)
def test_schedules_without_a_cron_equivalent_are_refused_with_a_reason(trigger: object) -> None:
    with pytest.raises(UnsupportedSchedule):
        cron_of(trigger)


def test_the_ingestion_id_comes_from_kwargs_then_args_then_the_job_id() -> None:
    one, two, three = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()

    def job(state: dict[str, object], job_id: str = "job") -> LegacyJob:
        return LegacyJob(job_id, "n", "app.jobs:run", state, paused=False)

    assert job({"kwargs": {"ingestion_id": str(one)}, "args": (str(two),)}).ingestion_id() == one
    assert job({"kwargs": {}, "args": (two,)}).ingestion_id() == two
    assert job({"kwargs": {}, "args": ()}, f"ingestion-{three}").ingestion_id() == three
    assert job({"kwargs": {}, "args": ()}, "nightly-report").ingestion_id() is None
