from pydantic import SecretStr

from autoloader_api.services import Services
from autoloader_core.settings import Settings


def test_the_database_pools_take_their_size_from_the_settings() -> None:
    settings = Settings(
        database_url=SecretStr("postgresql+psycopg://u:p@127.0.0.1:1/db"),
        api_database_pool_size=3,
    )
    services = Services.of(settings)  # connects to nothing yet
    try:
        assert services.engine.pool.size() == 3  # type: ignore[attr-defined]
        assert services.engine.pool._max_overflow == 3  # type: ignore[attr-defined]
    finally:
        services.engine.dispose()
