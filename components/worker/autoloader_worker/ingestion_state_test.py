from datetime import datetime
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.registry import Collector

from autoloader_worker.ingestion_state import IngestionState, expected_interval, families


def test_the_interval_is_the_gap_between_the_next_two_runs() -> None:
    assert expected_interval("*/5 * * * *", "UTC") == 300
    assert expected_interval("0 3 * * *", "Europe/Paris") == 86400
    assert expected_interval(None, "UTC") is None
    assert expected_interval("not a cron", "UTC") is None


def test_the_interval_follows_the_schedule_timezone() -> None:
    # Paris moves its clocks forward on 29 March 2026: noon to noon across it is 23 hours.
    before_the_change = datetime(2026, 3, 28, 8, tzinfo=ZoneInfo("UTC"))
    assert expected_interval("0 12 * * *", "Europe/Paris", before_the_change) == 23 * 3600


class Fixed(Collector):
    def __init__(self, states: list[IngestionState]) -> None:
        self.states = states

    def collect(self):  # type: ignore[no-untyped-def]
        return families(self.states)


def test_gauges_per_ingestion_without_made_up_values() -> None:
    registry = CollectorRegistry()
    registry.register(
        Fixed(
            [
                IngestionState(("id-1", "orders", "acme"), 3, 300, 1_700_000_000.0, 300.0),
                IngestionState(("id-2", "manual", "acme"), 0, 0, None, None),
            ]
        )
    )
    text = generate_latest(registry).decode()
    labels = 'ingestion="orders",ingestion_id="id-1",tenant="acme"'
    assert f"ingestion_backlog_files{{{labels}}} 3.0" in text
    assert f"ingestion_backlog_bytes{{{labels}}} 300.0" in text
    assert f"ingestion_last_success_timestamp_seconds{{{labels}}} 1.7e+09" in text
    assert f"ingestion_expected_interval_seconds{{{labels}}} 300.0" in text
    # Never succeeded, no schedule: no value rather than a zero that would look like one.
    assert 'ingestion_last_success_timestamp_seconds{ingestion="manual"' not in text
    assert 'ingestion_expected_interval_seconds{ingestion="manual"' not in text
    assert (
        'ingestion_backlog_files{ingestion="manual",ingestion_id="id-2",tenant="acme"} 0.0' in text
    )
