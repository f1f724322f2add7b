import asyncio

from pydantic import SecretStr

from autoloader_api.services import Services
from autoloader_core.settings import Settings


def test_the_database_pool_takes_its_size_and_bounds_from_the_settings() -> None:
    settings = Settings(
        database_url=SecretStr("postgresql+psycopg://u:p@127.0.0.1:1/db"),
        api_database_pool_size=3,
        api_database_pool_timeout_seconds=0.5,
    )
    services = Services.of(settings)  # connects to nothing yet
    try:
        pool = services.db.engine.pool
        assert services.db.engine.url.drivername == "postgresql+asyncpg"
        assert pool.size() == 3  # type: ignore[attr-defined]
        assert pool._max_overflow == 0  # type: ignore[attr-defined]
        assert pool._timeout == 0.5  # type: ignore[attr-defined]
    finally:
        asyncio.run(services.close())
