"""The API under concurrent writes, with Prefect slow or stopped and with the database's
connections all busy: nothing waits past its deadline, /health always answers, and each
ingestion's row and its Prefect deployment agree once the writes end (or after reconciliation,
for a change stored while Prefect did not answer)."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from api_process import ApiProcess, api_environment, ingestion_body
from prefect_proxy import PrefectProxy
from pydantic import SecretStr
from sqlalchemy import create_engine, text
from stores import Place
from support import StackFactory, prefect_call

DEADLINE = 20.0  # the API's request deadline in these tests
PREFECT_TIMEOUT = 5.0
# A frozen event loop answers nothing (the old code: never again); a busy one on two cores
# shared with Prefect and Spark answers within a few hundred ms. This bound tells the two
# apart; how fast /health is under load is measured by `./dev bench api`, not here.
HEALTH_LIMIT = 2.0


@pytest.fixture(scope="module")
def stack(services: StackFactory, prefect_settings: dict[str, str]) -> dict[str, str]:
    return services("s3", "prefect")


@pytest.fixture(scope="module")
def proxy(stack: dict[str, str]) -> Iterator[PrefectProxy]:
    proxy = PrefectProxy(stack["PREFECT_API_URL"])
    yield proxy
    proxy.down()


@pytest.fixture(scope="module")
def environment(stack: dict[str, str], proxy: PrefectProxy) -> dict[str, str]:
    return api_environment(
        stack,
        "it_concurrency",
        PREFECT_API_URL=proxy.url,
        AUTOLOADER_API_REQUEST_DEADLINE_SECONDS=str(DEADLINE),
        AUTOLOADER_PREFECT_TIMEOUT_SECONDS=str(PREFECT_TIMEOUT),
    )


@pytest.fixture(scope="module")
def key(api: ApiProcess) -> str:
    return api.tenant(("write",))[1]


@pytest.fixture(autouse=True)
def prefect_answers(proxy: PrefectProxy) -> Iterator[None]:
    """Each test starts and ends with Prefect answering through the proxy."""
    proxy.mode = "pass"
    yield
    proxy.mode = "pass"
    if proxy._server is None:
        proxy.up()


def create(api: ApiProcess, key: str, place: Place, **overrides: Any) -> dict[str, Any]:
    with api.client(key) as client:
        body = ingestion_body(place, f"t_{uuid.uuid4().hex[:10]}", **overrides)
        created = client.post("/api/v1/ingestions", json=body)
        assert created.status_code == 201, created.text
        answer: dict[str, Any] = created.json()
        return answer


def deployment_of(deployment_id: str) -> Any:
    return prefect_call(lambda client: client.read_deployment(uuid.UUID(deployment_id)))


def assert_row_and_deployment_agree(ingestion: dict[str, Any]) -> None:
    assert ingestion["deployment_state"] == "synced", ingestion
    deployment = deployment_of(ingestion["deployment_id"])
    crons = [(s.schedule.cron, s.schedule.timezone) for s in deployment.schedules]
    wanted = ingestion["schedule"]
    assert crons == ([(wanted["cron"], wanted["timezone"])] if wanted["cron"] else [])
    assert bool(deployment.paused) == (ingestion["status"] == "paused")
    assert deployment.work_queue_name == (ingestion["work_queue"] or "default")


class Health:
    """Polls /health every 50 ms while a test runs; keeps every latency."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.latencies: list[float] = []
        self.failures: list[str] = []

    async def poll(self, stop: asyncio.Event) -> None:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5) as client:
            while not stop.is_set():
                started = time.perf_counter()
                try:
                    answer = await client.get("/health")
                    if answer.status_code != 200:
                        self.failures.append(f"{answer.status_code}")
                except httpx.HTTPError as error:
                    self.failures.append(repr(error))
                self.latencies.append(time.perf_counter() - started)
                await asyncio.sleep(0.05)


async def timed(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> Any:
    started = time.perf_counter()
    answer = await client.request(method, url, **kwargs)
    return answer, time.perf_counter() - started


def writes_for(ingestion_id: str, count: int, rng: random.Random) -> list[tuple[str, str, Any]]:
    """A mix of the writes people send: schedules, fields, pause, resume, run now."""
    base = f"/api/v1/ingestions/{ingestion_id}"
    choices: list[tuple[str, str, Any]] = []
    for n in range(count):
        kind = rng.choice(["schedule", "fields", "pause", "resume", "run", "queue"])
        if kind == "schedule":
            cron = f"{n % 60} {rng.randrange(24)} * * *"
            zone = rng.choice(["UTC", "Europe/Paris", "America/New_York"])
            choices.append(("PATCH", f"{base}/schedule", {"cron": cron, "timezone": zone}))
        elif kind == "fields":
            choices.append(("PATCH", base, {"batch": {"max_files": rng.randrange(1, 5000)}}))
        elif kind == "queue":
            queue = rng.choice([None, "priority", "high-memory"])
            choices.append(("PATCH", f"{base}/work-queue", {"work_queue": queue}))
        elif kind == "run":
            choices.append(("POST", f"{base}/run", None))
        else:
            choices.append(("POST", f"{base}/{kind}", None))
    return choices


def test_concurrent_writes_to_one_ingestion_and_to_many_never_freeze_the_api(
    api: ApiProcess, key: str, place: Place
) -> None:
    shared = create(api, key, place, schedule={"cron": "*/30 * * * *"})
    others = [create(api, key, place)["id"] for _ in range(25)]
    rng = random.Random(19)
    writes = writes_for(shared["id"], 50, rng)
    for other in others:
        writes += writes_for(other, 2, rng)
    rng.shuffle(writes)

    async def scenario() -> tuple[list[tuple[int, float]], Health]:
        health = Health(api.base_url)
        stop = asyncio.Event()
        poller = asyncio.create_task(health.poll(stop))
        headers = {"Authorization": f"Bearer {key}"}
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(
            base_url=api.base_url, headers=headers, timeout=DEADLINE + 30, limits=limits
        ) as client:
            answers = await asyncio.gather(
                *(timed(client, method, url, json=body) for method, url, body in writes)
            )
        stop.set()
        await poller
        unexpected = [a.text for a, _ in answers if a.status_code not in (200, 202, 409, 412)]
        assert not unexpected, unexpected[:5]
        return [(a.status_code, seconds) for a, seconds in answers], health

    outcomes, health = asyncio.run(scenario())

    statuses = sorted({status for status, _ in outcomes})
    assert sum(1 for s, _ in outcomes if s in (200, 202)) >= len(outcomes) // 2, statuses
    assert max(seconds for _, seconds in outcomes) < DEADLINE + 1
    assert not health.failures, health.failures[:5]
    assert len(health.latencies) > 10
    assert max(health.latencies) < HEALTH_LIMIT, sorted(health.latencies)[-5:]
    with api.client(key) as client:
        for ingestion_id in [shared["id"], *others]:
            answer = client.get(f"/api/v1/ingestions/{ingestion_id}")
            assert answer.status_code == 200, answer.text
            assert_row_and_deployment_agree(answer.json())


def test_if_match_applies_a_change_only_to_the_version_it_names(
    api: ApiProcess, key: str, place: Place
) -> None:
    ingestion = create(api, key, place)
    url = f"/api/v1/ingestions/{ingestion['id']}/schedule"
    with api.client(key) as client:
        first = client.patch(url, json={"cron": "0 1 * * *"}, headers={"If-Match": '"1"'})
        assert first.status_code == 200, first.text
        assert first.headers["ETag"] == '"2"' and first.json()["version"] == 2
        stale = client.patch(url, json={"cron": "0 2 * * *"}, headers={"If-Match": '"1"'})
        assert stale.status_code == 412, stale.text
        assert "version 2" in stale.json()["detail"]
        current = client.get(f"/api/v1/ingestions/{ingestion['id']}")
        assert current.json()["schedule"]["cron"] == "0 1 * * *"
        assert current.headers["ETag"] == '"2"'
        bad = client.patch(url, json={"cron": "0 3 * * *"}, headers={"If-Match": "yesterday"})
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["header", "If-Match"]
    assert_row_and_deployment_agree(current.json())


def test_with_prefect_stopped_writes_answer_503_and_reads_keep_answering(
    api: ApiProcess, key: str, place: Place, proxy: PrefectProxy
) -> None:
    ingestion = create(api, key, place, schedule={"cron": "0 4 * * *"})
    url = f"/api/v1/ingestions/{ingestion['id']}"
    proxy.down()
    time.sleep(1.1)  # past the API's one-second memory of Prefect's last good health check
    with api.client(key, timeout=DEADLINE + 10) as client:
        listed_before = client.get("/api/v1/ingestions", params={"limit": 200}).json()
        started = time.perf_counter()
        changed = client.patch(f"{url}/schedule", json={"cron": "0 5 * * *"})
        created = client.post("/api/v1/ingestions", json=ingestion_body(place, "never"))
        paused = client.post(f"{url}/pause")
        elapsed = time.perf_counter() - started
        for answer in (changed, created, paused):
            assert answer.status_code == 503, answer.text
            assert answer.headers.get("Retry-After")
        assert elapsed < 3 * (PREFECT_TIMEOUT + 1)
        read = client.get(url)
        listed = client.get("/api/v1/ingestions", params={"limit": 200})
        assert read.status_code == 200 and listed.status_code == 200
        # Nothing was changed or half-created.
        assert read.json()["schedule"]["cron"] == "0 4 * * *"
        assert read.json()["status"] == "active" and read.json()["version"] == 1
        assert listed.json()["pagination"]["total"] == listed_before["pagination"]["total"]
        assert client.get("/health").status_code == 200
    proxy.up()
    with api.client(key) as client:
        assert client.patch(f"{url}/schedule", json={"cron": "0 5 * * *"}).status_code == 200
        assert_row_and_deployment_agree(client.get(url).json())


def test_with_prefect_late_writes_answer_503_within_the_deadline_and_reconciliation_repairs(
    api: ApiProcess,
    key: str,
    place: Place,
    proxy: PrefectProxy,
    environment: dict[str, str],
    stack: dict[str, str],
) -> None:
    ingestion = create(api, key, place, schedule={"cron": "0 6 * * *"})
    url = f"/api/v1/ingestions/{ingestion['id']}"
    with api.client(key, timeout=DEADLINE + 10) as client:
        # Prefect answers everything 10 s late: nothing is stored, within the API's bound.
        proxy.mode = "slow"
        time.sleep(1.1)  # past the API's one-second memory of Prefect's last good health check
        started = time.perf_counter()
        late = client.patch(f"{url}/schedule", json={"cron": "0 7 * * *"})
        assert late.status_code == 503, late.text
        assert time.perf_counter() - started < DEADLINE
        assert client.get(url).json()["version"] == 1
        # Prefect answers its health check but stalls on the deployment itself: the change is
        # stored, its deployment pending, and the answer says so.
        proxy.mode = "slow_writes"
        started = time.perf_counter()
        stalled = client.patch(f"{url}/schedule", json={"cron": "0 8 * * *"})
        assert time.perf_counter() - started < DEADLINE
        assert stalled.status_code == 503, stalled.text
        assert "pending" in stalled.json()["detail"]
        pending = client.get(url).json()
        assert pending["schedule"]["cron"] == "0 8 * * *"
        assert pending["deployment_state"] == "pending"
    proxy.mode = "pass"
    time.sleep(proxy.delay)  # the stalled write lands at Prefect meanwhile, or not at all

    from autoloader_metadata.db import make_engine, session_factory
    from autoloader_orchestration.reconcile import reconcile

    from autoloader_core.settings import Settings

    settings = Settings(
        database_url=SecretStr(environment["AUTOLOADER_DATABASE_URL"]),
        work_pool=environment["AUTOLOADER_WORK_POOL"],
        prefect_api_url=stack["PREFECT_API_URL"],
    )
    engine = make_engine(environment["AUTOLOADER_DATABASE_URL"])
    try:
        report = prefect_call(lambda client: reconcile(session_factory(engine), client, settings))
    finally:
        engine.dispose()
    assert uuid.UUID(ingestion["id"]) in report.repaired_deployments, report.lines()
    with api.client(key) as client:
        repaired = client.get(url).json()
    assert repaired["schedule"]["cron"] == "0 8 * * *"
    assert_row_and_deployment_agree(repaired)


def test_with_every_database_connection_busy_requests_get_503_quickly_and_health_answers(
    api: ApiProcess, key: str, place: Place, environment: dict[str, str]
) -> None:
    ingestion = create(api, key, place)
    engine = create_engine(environment["AUTOLOADER_DATABASE_URL"])
    try:
        with engine.connect() as blocker:
            # Holds the table: every statement of the API on it waits (up to its lock
            # timeout), so its connections (20, the default) stay busy while more arrive.
            blocker.execute(text("LOCK TABLE ingestions IN ACCESS EXCLUSIVE MODE"))

            async def scenario() -> tuple[list[tuple[int, float, str | None]], Health]:
                health = Health(api.base_url)
                stop = asyncio.Event()
                poller = asyncio.create_task(health.poll(stop))
                headers = {"Authorization": f"Bearer {key}"}
                async with httpx.AsyncClient(
                    base_url=api.base_url, headers=headers, timeout=DEADLINE + 10
                ) as client:
                    answers = await asyncio.gather(
                        *(
                            timed(client, "GET", f"/api/v1/ingestions/{ingestion['id']}")
                            for _ in range(60)
                        )
                    )
                stop.set()
                await poller
                return [
                    (a.status_code, s, a.headers.get("Retry-After")) for a, s in answers
                ], health

            outcomes, health = asyncio.run(scenario())
            blocker.rollback()
    finally:
        engine.dispose()
    assert {status for status, _, _ in outcomes} <= {409, 503}, outcomes
    assert any(status == 503 for status, _, _ in outcomes), outcomes
    assert all(retry for _, _, retry in outcomes)
    # Bounded by the pool's wait (3 s) and the lock timeout (2 s), twice at most.
    assert max(seconds for _, seconds, _ in outcomes) < 9
    # /health never waits on the database: it answers while 60 requests are being turned away.
    assert not health.failures and max(health.latencies) < 1.0, sorted(health.latencies)[-3:]
    with api.client(key) as client:  # and it recovers at once
        assert client.get(f"/api/v1/ingestions/{ingestion['id']}").status_code == 200


def test_a_body_over_the_limit_is_refused_before_it_is_parsed(api: ApiProcess, key: str) -> None:
    with api.client(key) as client:
        huge = client.post(
            "/api/v1/ingestions",
            content=b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}',
            headers={"Content-Type": "application/json"},
        )
    assert huge.status_code == 413, huge.text
    assert "at most 1048576 bytes" in huge.json()["detail"]


def test_the_stored_document_of_every_ingestion_equals_a_fresh_render(
    api: ApiProcess, key: str, place: Place, environment: dict[str, str]
) -> None:
    create(api, key, place, schedule={"cron": "15 3 * * *", "timezone": "Europe/Paris"})
    from autoloader_metadata.db import make_engine, session_factory
    from autoloader_metadata.models import Ingestion as IngestionRow
    from autoloader_model.ingestion import Ingestion

    engine = make_engine(environment["AUTOLOADER_DATABASE_URL"])
    try:
        with session_factory(engine)() as session:
            rows = session.query(IngestionRow).all()
            assert rows
            for row in rows:
                assert row.document == Ingestion.of_row(row).document_json(), row.id
    finally:
        engine.dispose()
