"""Process settings, read from AUTOLOADER_* environment variables (and PREFECT_API_URL)."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUTOLOADER_", extra="ignore")

    environment: Literal["local", "test", "production"] = Field(
        default="local", description="local enables conveniences that production refuses."
    )
    database_url: SecretStr = Field(
        default=SecretStr("postgresql+psycopg://autoloader@127.0.0.1:55432/autoloader"),
        description="SQLAlchemy URL of the metadata store; holds a password, so never logged.",
    )
    prefect_api_url: str = Field(
        default="http://127.0.0.1:4200/api",
        validation_alias=AliasChoices("AUTOLOADER_PREFECT_API_URL", "PREFECT_API_URL"),
        description="Prefect server API the api and workers talk to.",
    )
    work_pool: str = Field(default="autoloader", description="Prefect work pool of the workers.")
    spark_remote: str = Field(
        default="sc://127.0.0.1:15002", description="Spark Connect URL of the default cluster."
    )
    api_host: str = Field(default="127.0.0.1", description="Address the API listens on.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="Port the API listens on.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
