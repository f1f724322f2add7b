"""What every command shares: the chosen profile, and a client whose failures become a message
on stderr and an exit code (2 for what the API or the CLI finds invalid, 1 for the rest)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

import typer
from autoloader_cli.client import Api, ApiError, Unreachable, ValidationFailed
from autoloader_cli.config import ConfigError, Profile, load_profile
from autoloader_cli.output import err
from autoloader_cli.specs import SpecError
from rich.markup import escape


class State:
    profile_name: str | None = None


STATE = State()


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[red]error:[/] {escape(message)}")
    raise typer.Exit(code)


@contextmanager
def api(profile: Profile | None = None) -> Iterator[Api]:
    try:
        with Api(profile or load_profile(STATE.profile_name)) as client:
            yield client
    except ValidationFailed as error:
        fail(str(error), 2)
    except SpecError as error:
        fail(str(error), 2)
    except (ApiError, ConfigError, Unreachable) as error:
        fail(str(error))
