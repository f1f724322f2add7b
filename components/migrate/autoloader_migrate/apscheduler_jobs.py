"""Reading an APScheduler 3 SQLAlchemy job store: its jobs, their schedules as cron, and pausing
a job the way APScheduler does (no next run time).

Job states are pickles written by APScheduler. They are unpickled here without importing the old
application: the job's function is stored as a text reference, and only APScheduler's own
trigger classes are needed. Point this only at your own job store: unpickling runs code.
"""

from __future__ import annotations

import pickle
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, text

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # APScheduler: 0 is Monday
UUID_IN = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class LegacyJob:
    id: str
    name: str
    func: str
    state: dict[str, Any]
    paused: bool

    def ingestion_id(self) -> uuid.UUID | None:
        """From the job's `ingestion_id` keyword, its first argument, or its id."""
        candidates = [self.state.get("kwargs", {}).get("ingestion_id")]
        candidates += list(self.state.get("args", ()))[:1]
        candidates.append(self.id)
        for candidate in candidates:
            if candidate is None:
                continue
            if isinstance(candidate, uuid.UUID):
                return candidate
            found = UUID_IN.search(str(candidate))
            if found:
                return uuid.UUID(found.group(0))
        return None


class UnsupportedSchedule(ValueError):
    pass


def read_jobs(engine: Engine, table: str = "apscheduler_jobs") -> list[LegacyJob]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(f"SELECT id, next_run_time, job_state FROM {_table(table)} ORDER BY id")
        ).all()
    jobs = []
    for row in rows:
        state = pickle.loads(row.job_state)
        jobs.append(
            LegacyJob(
                id=row.id,
                name=str(state.get("name") or row.id),
                func=str(state.get("func", "")),
                state=state,
                paused=row.next_run_time is None,
            )
        )
    return jobs


def pause_job(engine: Engine, job: LegacyJob, table: str = "apscheduler_jobs") -> bool:
    """Clears the job's next run time (APScheduler's pause); False when it was already paused."""
    if job.paused:
        return False
    state = dict(job.state, next_run_time=None)
    with engine.begin() as connection:
        connection.execute(
            text(
                f"UPDATE {_table(table)} SET next_run_time = NULL, job_state = :state WHERE id = :id"
            ),
            {"state": pickle.dumps(state, pickle.HIGHEST_PROTOCOL), "id": job.id},
        )
    return True


def cron_of(trigger: Any) -> tuple[str, str]:
    """The job's schedule as (five-field cron, timezone); UnsupportedSchedule when it has none."""
    kind = type(trigger).__name__
    timezone = str(getattr(trigger, "timezone", "UTC"))
    if timezone == "Etc/UTC":
        timezone = "UTC"
    if kind == "CronTrigger":
        fields = {field.name: str(field) for field in trigger.fields}
        if fields["second"] != "0" or fields["year"] != "*" or fields["week"] != "*":
            raise UnsupportedSchedule(
                f"cron fields second={fields['second']} year={fields['year']} "
                f"week={fields['week']} have no five-field cron equivalent"
            )
        day_of_week = _day_names(fields["day_of_week"])
        return (
            f"{fields['minute']} {fields['hour']} {fields['day']} {fields['month']} {day_of_week}",
            timezone,
        )
    if kind == "IntervalTrigger":
        return _interval_cron(trigger.interval), timezone
    raise UnsupportedSchedule(f"a {kind} has no recurring schedule to carry over")


def _interval_cron(interval: timedelta) -> str:
    seconds = int(interval.total_seconds())
    minutes, hours = seconds // 60, seconds // 3600
    if seconds % 60 == 0 and minutes < 60 and 60 % minutes == 0:
        return f"*/{minutes} * * * *" if minutes > 1 else "* * * * *"
    if seconds % 3600 == 0 and hours < 24 and 24 % hours == 0:
        return f"0 */{hours} * * *" if hours > 1 else "0 * * * *"
    if seconds == 86400:
        return "0 0 * * *"
    raise UnsupportedSchedule(
        f"an interval of {interval} does not divide an hour or a day evenly; set a cron by hand"
    )


def _day_names(expression: str) -> str:
    """APScheduler counts weekdays from Monday = 0, cron from Sunday = 0: use names."""
    return re.sub(r"\d+", lambda m: DAY_NAMES[int(m.group(0)) % 7], expression)


def _table(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?", name):
        raise ValueError(f"{name!r} is not a table name")
    return name
