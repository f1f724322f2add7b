import asyncio
from uuid import UUID

import pytest
from support import StackFactory


@pytest.fixture(scope="module")
def prefect_api(prefect_settings: dict[str, str]) -> str:
    return prefect_settings["PREFECT_API_URL"]


def test_a_flow_run_is_recorded_by_the_prefect_server(prefect_api: str) -> None:
    from prefect.client.orchestration import get_client

    from autoloader_flows.diagnostics import diagnostics

    state = diagnostics(return_state=True)
    versions = state.result()
    run_id = state.state_details.flow_run_id

    async def read_back() -> tuple[str, str, str]:
        async with get_client() as client:
            assert client.api_url.host in prefect_api
            run = await client.read_flow_run(UUID(str(run_id)))
            flow = await client.read_flow(run.flow_id)
            state = run.state_type.value if run.state_type else ""
            return state, flow.name, str(client.api_url)

    state_type, flow_name, api_url = asyncio.run(read_back())
    assert state_type == "COMPLETED"
    assert flow_name == "autoloader-diagnostics"
    assert api_url.rstrip("/") == prefect_api.rstrip("/")
    assert versions["prefect"].startswith("3.")


def test_the_stack_created_the_autoloader_work_pool(
    prefect_api: str, services: StackFactory
) -> None:
    from prefect.client.orchestration import get_client

    async def read_pool() -> str:
        async with get_client() as client:
            pool = await client.read_work_pool(services("prefect")["AUTOLOADER_WORK_POOL"])
            return pool.type

    assert asyncio.run(read_pool()) == "process"
