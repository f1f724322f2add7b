"""Schemathesis against the API's own OpenAPI: generated requests, valid and not, to every
operation of a running API; none may answer 5xx or break the documented response schema."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import hypothesis  # pants: no-infer-dep (hypothesis comes with schemathesis)
import pytest
import schemathesis
from api_process import ApiProcess, api_environment
from hypothesis.errors import Unsatisfiable  # pants: no-infer-dep (with schemathesis)
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import response_schema_conformance
from support import StackFactory

EXAMPLES = int(
    os.environ.get("AUTOLOADER_FUZZ_EXAMPLES", "30")
)  # per operation and mode; operations without inputs yield fewer
MINIMUM_REQUESTS = 1000


@pytest.fixture(scope="module")
def api(
    services: StackFactory,
    prefect_settings: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ApiProcess]:
    # No worker serves this pool, and previews answer at once (202) instead of waiting.
    stack = services("prefect")
    env = api_environment(
        stack,
        "it_api_schema",
        AUTOLOADER_PREVIEW_WAIT_SECONDS="0",
        AUTOLOADER_SPARK_REMOTE="sc://127.0.0.1:9",
    )
    process = ApiProcess(env, tmp_path_factory.mktemp("api") / "api.log")
    yield process
    process.stop()


def generated_test(
    operation: Any, mode: GenerationMode, base_url: str, headers: dict[str, str], tally: Tally
) -> Callable[[], None]:
    """A Hypothesis test that sends `operation` the requests it generates and checks answers."""

    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        # The same requests each run unless asked otherwise: CI stays reproducible, and
        # AUTOLOADER_FUZZ_RANDOM=1 (with AUTOLOADER_FUZZ_EXAMPLES=N) explores further.
        derandomize=os.environ.get("AUTOLOADER_FUZZ_RANDOM") != "1",
        phases=[hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    def exercise(case: Any) -> None:
        response = case.call(base_url=base_url, headers=headers, timeout=60)
        tally.operations[operation.label] += 1
        tally.statuses[response.status_code] += 1
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    return cast(Callable[[], None], exercise)


@dataclass
class Tally:
    operations: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)


def test_generated_requests_find_no_server_error_and_no_schema_break(api: ApiProcess) -> None:
    schema = schemathesis.openapi.from_url(f"{api.base_url}/openapi.json")
    auth = {"Authorization": f"Bearer {api.admin_key}"}
    tally = Tally()
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                generated_test(operation, mode, api.base_url, auth, tally)()
            except Unsatisfiable:
                if mode is GenerationMode.POSITIVE:
                    raise  # only an operation without inputs has no invalid request

    total = sum(tally.operations.values())
    print(f"schemathesis: {total} requests, {len(tally.operations)} operations, {tally.statuses}")
    assert total >= MINIMUM_REQUESTS, tally
    assert "ERROR" not in api.tail(200_000), "the API logged an error"
