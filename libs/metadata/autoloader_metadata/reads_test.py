import asyncio
from typing import Any, cast

import asyncpg
from autoloader_metadata.reads import ReadPool, read


def test_reads_wait_for_a_connection_and_are_served_in_the_order_they_arrive() -> None:
    """A request that waited is not overtaken by one arriving just as a connection comes free
    (asyncpg's own pool lets it, which doubled the API's tail latency under load)."""

    async def scenario() -> tuple[list[str], list[str]]:
        served: list[str] = []
        first_running, release_first = asyncio.Event(), asyncio.Event()
        reads = ReadPool(pool=cast(asyncpg.Pool, None), gate=asyncio.Semaphore(1))

        async def statement(name: str, hold: bool = False) -> None:
            async def run(_: Any) -> None:
                served.append(name)
                if hold:
                    first_running.set()
                    await release_first.wait()

            await read(reads, run)

        first = asyncio.create_task(statement("first", hold=True))
        await first_running.wait()
        waiting = [asyncio.create_task(statement(f"waiting-{n}")) for n in range(3)]
        await asyncio.sleep(0.01)
        while_held = list(served)
        release_first.set()
        await asyncio.sleep(0)  # the connection comes free and the first waiter is woken ...
        late = asyncio.create_task(statement("late"))  # ... as a newcomer asks for one
        await asyncio.gather(first, late, *waiting)
        return while_held, served

    while_held, served = asyncio.run(scenario())
    assert while_held == ["first"]
    assert served == ["first", "waiting-0", "waiting-1", "waiting-2", "late"]
